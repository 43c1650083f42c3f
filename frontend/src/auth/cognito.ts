/**
 * The two Cognito user pool calls a browser login needs, over Cognito's JSON protocol. The app client has
 * no secret, so no SECRET_HASH; USER_PASSWORD_AUTH is enabled on it in template.yaml.
 */
export interface AuthTokens {
  idToken: string;
  accessToken: string | null;
  expiresIn: number | null;
}

export interface NewPasswordChallenge {
  challenge: "NEW_PASSWORD_REQUIRED";
  username: string;
  session: string;
}

export type LoginResult = { tokens: AuthTokens } | NewPasswordChallenge;

export class CognitoError extends Error {
  override name = "CognitoError";
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

const TARGET_PREFIX = "AWSCognitoIdentityProviderService.";

export class CognitoClient {
  constructor(
    private readonly endpoint: string,
    private readonly clientId: string,
    private readonly fetchFn: FetchFn = (input, init) => fetch(input, init),
  ) {}

  async login(username: string, password: string): Promise<LoginResult> {
    const answer = await this.call("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: this.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    return this.loginResult(answer, username);
  }

  /** Answers NEW_PASSWORD_REQUIRED (users an admin created with a temporary password). */
  async setNewPassword(challenge: NewPasswordChallenge, newPassword: string): Promise<LoginResult> {
    const answer = await this.call("RespondToAuthChallenge", {
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      ClientId: this.clientId,
      Session: challenge.session,
      ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: newPassword },
    });
    return this.loginResult(answer, challenge.username);
  }

  private loginResult(answer: Record<string, unknown>, username: string): LoginResult {
    const result = answer.AuthenticationResult as Record<string, unknown> | undefined;
    if (result && typeof result.IdToken === "string") {
      return {
        tokens: {
          idToken: result.IdToken,
          accessToken: typeof result.AccessToken === "string" ? result.AccessToken : null,
          expiresIn: typeof result.ExpiresIn === "number" ? result.ExpiresIn : null,
        },
      };
    }
    if (answer.ChallengeName === "NEW_PASSWORD_REQUIRED" && typeof answer.Session === "string") {
      return { challenge: "NEW_PASSWORD_REQUIRED", username, session: answer.Session };
    }
    const name = typeof answer.ChallengeName === "string" ? answer.ChallengeName : "an unknown answer";
    throw new CognitoError("UnsupportedChallenge", `Sign-in needs ${name}, which this UI does not support`, 200);
  }

  private async call(action: string, body: object): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await this.fetchFn(this.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": TARGET_PREFIX + action,
        },
        body: JSON.stringify(body),
      });
    } catch (error) {
      throw new CognitoError("NetworkError", `Cannot reach Cognito at ${this.endpoint}: ${String(error)}`, 0);
    }
    const text = await response.text();
    const parsed = parseJsonObject(text);
    if (!response.ok) {
      throw cognitoError(response, parsed, text);
    }
    if (parsed === null) {
      throw new CognitoError("InvalidResponse", `Cognito answered ${action} with no JSON object`, response.status);
    }
    return parsed;
  }
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Cognito errors: {"__type": "[prefix#]NotAuthorizedException", "message": "..."} (or "Message"). */
function cognitoError(response: Response, body: Record<string, unknown> | null, text: string): CognitoError {
  const rawType = String(body?.__type ?? response.headers.get("x-amzn-ErrorType") ?? "HttpError");
  const type = rawType.split("#").pop()?.split(":")[0] ?? rawType;
  const message = body?.message ?? body?.Message ?? (text.slice(0, 200) || `HTTP ${response.status}`);
  return new CognitoError(type, String(message), response.status);
}
