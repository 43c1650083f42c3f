/**
 * Reading (not verifying) a Cognito ID token. The API's authorizer verifies every request; the UI only
 * needs the expiry to know when to ask for a new login, and the groups to hide what a role cannot do.
 */
export interface IdTokenClaims {
  sub: string;
  username: string;
  email: string | null;
  groups: string[];
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export class MalformedTokenError extends Error {
  override name = "MalformedTokenError";
}

function base64UrlDecode(segment: string): string {
  const base64 = segment.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

export function decodeIdToken(token: string): IdTokenClaims {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) {
    throw new MalformedTokenError("not a JSON Web Token (expected three dot-separated parts)");
  }
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(base64UrlDecode(parts[1])) as Record<string, unknown>;
  } catch {
    throw new MalformedTokenError("the token's payload is not base64url-encoded JSON");
  }
  if (typeof payload.exp !== "number" || typeof payload.sub !== "string") {
    throw new MalformedTokenError("the token has no exp or sub claim");
  }
  const groups = payload["cognito:groups"];
  return {
    sub: payload.sub,
    username: String(payload["cognito:username"] ?? payload.username ?? payload.sub),
    email: typeof payload.email === "string" ? payload.email : null,
    groups: Array.isArray(groups) ? groups.map(String) : [],
    exp: payload.exp,
  };
}

/** Seconds of clock skew tolerated: a token this close to expiry is treated as expired already. */
export const EXPIRY_MARGIN_S = 30;

export function isExpired(claims: IdTokenClaims, nowMs: number = Date.now()): boolean {
  return claims.exp * 1000 - EXPIRY_MARGIN_S * 1000 <= nowMs;
}

/** Milliseconds until the UI should treat the token as expired (0 when it already is). */
export function msUntilExpiry(claims: IdTokenClaims, nowMs: number = Date.now()): number {
  return Math.max(0, claims.exp * 1000 - EXPIRY_MARGIN_S * 1000 - nowMs);
}

export function hasAnyGroup(userGroups: readonly string[], allowed: readonly string[]): boolean {
  return allowed.some((group) => userGroups.includes(group));
}
