import { describe, expect, it } from "vitest";

import { CognitoClient, CognitoError } from "./cognito";

interface Call {
  url: string;
  target: string | null;
  body: Record<string, unknown>;
}

/** A fetch that records the request and answers with a canned Cognito response. */
function cognitoAnswering(status: number, answer: unknown, calls: Call[]) {
  return async (url: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers);
    calls.push({ url, target: headers.get("X-Amz-Target"), body: JSON.parse(String(init.body)) });
    return new Response(JSON.stringify(answer), { status, headers: { "Content-Type": "application/x-amz-json-1.1" } });
  };
}

describe("CognitoClient", () => {
  it("signs in with USER_PASSWORD_AUTH and returns the ID token", async () => {
    // Given Cognito answering InitiateAuth with tokens
    const calls: Call[] = [];
    const fetchFn = cognitoAnswering(200, { AuthenticationResult: { IdToken: "id.jwt.x", AccessToken: "a", ExpiresIn: 3600 } }, calls);
    const client = new CognitoClient("http://127.0.0.1:4566/", "client-1", fetchFn);
    // When a user signs in
    const result = await client.login("demo-trader", "pw");
    // Then the request is InitiateAuth for the app client, and the ID token comes back
    expect(calls).toEqual([
      {
        url: "http://127.0.0.1:4566/",
        target: "AWSCognitoIdentityProviderService.InitiateAuth",
        body: { AuthFlow: "USER_PASSWORD_AUTH", ClientId: "client-1", AuthParameters: { USERNAME: "demo-trader", PASSWORD: "pw" } },
      },
    ]);
    expect(result).toEqual({ tokens: { idToken: "id.jwt.x", accessToken: "a", expiresIn: 3600 } });
  });

  it("turns Cognito's error body into a CognitoError with its message", async () => {
    // Given Cognito rejecting the password
    const fetchFn = cognitoAnswering(400, { __type: "NotAuthorizedException", message: "Incorrect username or password." }, []);
    const client = new CognitoClient("http://x/", "c", fetchFn);
    // When the user signs in, then the error carries Cognito's type and message
    const error = await client.login("u", "bad").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CognitoError);
    expect(error).toMatchObject({ type: "NotAuthorizedException", message: "Incorrect username or password.", status: 400 });
  });

  it("strips the namespace prefix AWS puts in some error types", async () => {
    const fetchFn = cognitoAnswering(400, { __type: "com.amazonaws.cognito#UserNotFoundException", Message: "User does not exist." }, []);
    const error = await new CognitoClient("http://x/", "c", fetchFn).login("u", "p").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ type: "UserNotFoundException", message: "User does not exist." });
  });

  it("hands back a NEW_PASSWORD_REQUIRED challenge and answers it", async () => {
    // Given a user created with a temporary password
    const calls: Call[] = [];
    const challenge = await new CognitoClient("http://x/", "c", cognitoAnswering(200, { ChallengeName: "NEW_PASSWORD_REQUIRED", Session: "sess" }, calls)).login("u", "temp");
    expect(challenge).toEqual({ challenge: "NEW_PASSWORD_REQUIRED", username: "u", session: "sess" });
    // When the new password is set
    const client = new CognitoClient("http://x/", "c", cognitoAnswering(200, { AuthenticationResult: { IdToken: "id" } }, calls));
    const result = await client.setNewPassword(challenge as never, "N3w-password!");
    // Then RespondToAuthChallenge carries the session and the new password, and signs the user in
    expect(calls[1]?.target).toBe("AWSCognitoIdentityProviderService.RespondToAuthChallenge");
    expect(calls[1]?.body).toEqual({
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      ClientId: "c",
      Session: "sess",
      ChallengeResponses: { USERNAME: "u", NEW_PASSWORD: "N3w-password!" },
    });
    expect(result).toEqual({ tokens: { idToken: "id", accessToken: null, expiresIn: null } });
  });

  it("reports an unreachable endpoint as a NetworkError naming it", async () => {
    const client = new CognitoClient("http://127.0.0.1:1/", "c", async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(client.login("u", "p")).rejects.toMatchObject({ type: "NetworkError", message: expect.stringContaining("http://127.0.0.1:1/") });
  });

  it("refuses challenges it cannot answer instead of hanging", async () => {
    const fetchFn = cognitoAnswering(200, { ChallengeName: "SOFTWARE_TOKEN_MFA", Session: "s" }, []);
    await expect(new CognitoClient("http://x/", "c", fetchFn).login("u", "p")).rejects.toThrow(/SOFTWARE_TOKEN_MFA/);
  });
});
