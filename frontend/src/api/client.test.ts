import { describe, expect, it } from "vitest";

import { createApiClient } from "./client";
import { ApiError } from "./errors";

interface Seen {
  url: string;
  authorization: string | null;
}

/** A fetch standing in for the gateway: records each request and answers with `status` and `body`. */
function gateway(status: number, body: unknown, seen: Seen[]): typeof fetch {
  return async (input: RequestInfo | URL) => {
    const request = input as Request;
    seen.push({ url: request.url, authorization: request.headers.get("Authorization") });
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  };
}

const ME = { user_id: "u1", username: "demo-trader", email: null, groups: ["trader"] };

describe("createApiClient", () => {
  it("sends the current ID token as the raw Authorization header", async () => {
    // Given a signed-in user
    const seen: Seen[] = [];
    const { client } = createApiClient("http://127.0.0.1:8080", { token: () => "id-token", onUnauthorized: () => {} }, gateway(200, ME, seen));
    // When the UI asks who it is
    const { data } = await client.GET("/v1/me");
    // Then the token travels as the Authorization header (what the Cognito authorizer reads)
    expect(seen).toEqual([{ url: "http://127.0.0.1:8080/v1/me", authorization: "id-token" }]);
    expect(data).toEqual(ME);
  });

  it("sends no Authorization header when signed out", async () => {
    const seen: Seen[] = [];
    const { client } = createApiClient("http://h", { token: () => null, onUnauthorized: () => {} }, gateway(200, {}, seen));
    await client.GET("/v1/health");
    expect(seen[0]?.authorization).toBeNull();
  });

  it("signs out when the API rejects the token it was sent", async () => {
    // Given a token the API no longer accepts
    let signedOut = 0;
    const { client } = createApiClient(
      "http://h",
      { token: () => "expired", onUnauthorized: () => (signedOut += 1) },
      gateway(401, { message: "Unauthorized" }, []),
    );
    // When a protected route is called, then an ApiError is thrown and sign-out is triggered once
    await expect(client.GET("/v1/me")).rejects.toMatchObject({ status: 401, message: "Unauthorized" });
    expect(signedOut).toBe(1);
  });

  it("does not sign out on a 401 for a request sent without a token", async () => {
    let signedOut = 0;
    const { client } = createApiClient("http://h", { token: () => null, onUnauthorized: () => (signedOut += 1) }, gateway(401, { message: "Unauthorized" }, []));
    await expect(client.GET("/v1/me")).rejects.toBeInstanceOf(ApiError);
    expect(signedOut).toBe(0);
  });

  it("throws the API's error message for a 4xx", async () => {
    const { client } = createApiClient(
      "http://h",
      { token: () => "t", onUnauthorized: () => {} },
      gateway(400, { code: "bad_request", message: "Unknown symbol 'NOPE'" }, []),
    );
    const call = client.GET("/v1/marketdata/quotes/{symbol}", { params: { path: { symbol: "NOPE" } } });
    await expect(call).rejects.toMatchObject({ status: 400, code: "bad_request", message: "Unknown symbol 'NOPE'" });
  });

  it("reports an unreachable API as an ApiError with status 0", async () => {
    const { client } = createApiClient("http://127.0.0.1:9", { token: () => null, onUnauthorized: () => {} }, async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(client.GET("/v1/health")).rejects.toMatchObject({ status: 0, message: expect.stringContaining("http://127.0.0.1:9") });
  });
});
