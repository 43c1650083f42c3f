import { decodeIdToken, isExpired, MalformedTokenError, type IdTokenClaims } from "./jwt";

/** The signed-in user's ID token and what the UI reads from it. */
export interface Session {
  idToken: string;
  claims: IdTokenClaims;
}

export const ID_TOKEN_KEY = "trade2026.idToken";

/**
 * The ID token lives in sessionStorage: it survives a reload but not closing the tab, and is never shared
 * with other tabs. A stored token that is expired or unreadable is dropped on read.
 */
export class SessionStore {
  constructor(
    private readonly storage: Storage,
    private readonly now: () => number = Date.now,
  ) {}

  load(): Session | null {
    const idToken = this.storage.getItem(ID_TOKEN_KEY);
    if (idToken === null) {
      return null;
    }
    try {
      const claims = decodeIdToken(idToken);
      if (!isExpired(claims, this.now())) {
        return { idToken, claims };
      }
    } catch (error) {
      if (!(error instanceof MalformedTokenError)) {
        throw error;
      }
    }
    this.clear();
    return null;
  }

  /** Stores a fresh token; throws MalformedTokenError or a plain Error when it is unusable. */
  save(idToken: string): Session {
    const claims = decodeIdToken(idToken);
    if (isExpired(claims, this.now())) {
      throw new Error("Cognito returned a token that is already expired: check this computer's clock");
    }
    this.storage.setItem(ID_TOKEN_KEY, idToken);
    return { idToken, claims };
  }

  clear(): void {
    this.storage.removeItem(ID_TOKEN_KEY);
  }
}
