import { describe, expect, it } from "vitest";

import { tokenWith } from "../testing/tokens";
import { decodeIdToken, EXPIRY_MARGIN_S, hasAnyGroup, isExpired, MalformedTokenError, msUntilExpiry } from "./jwt";

describe("decodeIdToken", () => {
  it("reads the username, email, groups and expiry of a Cognito ID token", () => {
    // Given an ID token as Cognito issues it (groups in cognito:groups, a non-ASCII name)
    const token = tokenWith({
      sub: "f500e2e8",
      "cognito:username": "demo-trader",
      "cognito:groups": ["trader"],
      email: "zoë@trade2026.local",
      exp: 1_800_000_000,
    });
    // When it is decoded
    const claims = decodeIdToken(token);
    // Then the claims the UI needs come out, UTF-8 intact
    expect(claims).toEqual({
      sub: "f500e2e8",
      username: "demo-trader",
      email: "zoë@trade2026.local",
      groups: ["trader"],
      exp: 1_800_000_000,
    });
  });

  it("gives a token without groups an empty group list", () => {
    const claims = decodeIdToken(tokenWith({ sub: "s", username: "u", exp: 1 }));
    expect(claims.groups).toEqual([]);
    expect(claims.username).toBe("u");
  });

  it.each([
    ["one part", "abc"],
    ["a payload that is not JSON", "a.bm90IGpzb24.c"],
    ["no exp claim", tokenWith({ sub: "s" })],
  ])("rejects a token with %s", (_why, token) => {
    expect(() => decodeIdToken(token)).toThrow(MalformedTokenError);
  });
});

describe("expiry", () => {
  const claims = decodeIdToken(tokenWith({ sub: "s", exp: 1000 }));

  it("treats a token as expired from EXPIRY_MARGIN_S before its exp", () => {
    // Given a token expiring at t = 1000 s
    // Then it is valid just before the margin, expired at the margin
    expect(isExpired(claims, (1000 - EXPIRY_MARGIN_S - 1) * 1000)).toBe(false);
    expect(isExpired(claims, (1000 - EXPIRY_MARGIN_S) * 1000)).toBe(true);
  });

  it("counts down to the expiry and never below zero", () => {
    expect(msUntilExpiry(claims, (1000 - EXPIRY_MARGIN_S - 5) * 1000)).toBe(5000);
    expect(msUntilExpiry(claims, 2_000_000)).toBe(0);
  });
});

describe("hasAnyGroup", () => {
  it("is true when the user is in one of the allowed groups", () => {
    expect(hasAnyGroup(["viewer", "trader"], ["trader", "admin"])).toBe(true);
    expect(hasAnyGroup(["viewer"], ["trader", "admin"])).toBe(false);
    expect(hasAnyGroup([], ["viewer"])).toBe(false);
  });
});
