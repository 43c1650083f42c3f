import { describe, expect, it } from "vitest";

import { ApiError, apiErrorFromBody, errorMessage } from "./errors";

describe("apiErrorFromBody", () => {
  it("keeps the API's code, message and details", () => {
    const body = JSON.stringify({ code: "bad_request", message: "Unknown symbol 'NOPE'", details: { symbol: "NOPE" } });
    const error = apiErrorFromBody(400, "BAD REQUEST", body);
    expect(error).toMatchObject({ status: 400, code: "bad_request", message: "Unknown symbol 'NOPE'", details: { symbol: "NOPE" } });
    expect(errorMessage(error)).toBe("Unknown symbol 'NOPE' (HTTP 400 bad_request)");
  });

  it("reads the authorizer's bare {message}", () => {
    const error = apiErrorFromBody(401, "UNAUTHORIZED", '{"message":"Unauthorized"}');
    expect(error).toMatchObject({ status: 401, code: null, message: "Unauthorized" });
  });

  it("summarises a validation error list", () => {
    const body = JSON.stringify({ detail: [{ loc: ["query", "limit"], msg: "must be <= 50000" }] });
    expect(apiErrorFromBody(422, "", body).message).toBe("Invalid request (query.limit: must be <= 50000)");
  });

  it("falls back to the text, then to the status line", () => {
    expect(apiErrorFromBody(502, "Bad Gateway", "upstream died").message).toBe("upstream died");
    expect(apiErrorFromBody(503, "Service Unavailable", "").message).toBe("HTTP 503 Service Unavailable");
  });

  it("keeps the whole body (the health report of a 503)", () => {
    const report = { status: "unhealthy", stage: "dev", resources: [] };
    expect(apiErrorFromBody(503, "", JSON.stringify(report)).body).toEqual(report);
  });
});

describe("errorMessage", () => {
  it("leaves out the status of errors that never reached the API", () => {
    expect(errorMessage(new ApiError(0, "Cannot reach the API"))).toBe("Cannot reach the API");
    expect(errorMessage(new Error("plain"))).toBe("plain");
    expect(errorMessage("text")).toBe("text");
  });
});
