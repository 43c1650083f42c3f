/** An API answer that was not 2xx, with the API's own message (bodies are {code, message, details?}). */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly details: unknown = null,
    /** The parsed JSON body, when there was one (GET /v1/health answers 503 with its full report). */
    readonly body: unknown = null,
  ) {
    super(message);
  }
}

function summariseValidation(detail: unknown): string | null {
  if (!Array.isArray(detail) || detail.length === 0) {
    return null;
  }
  const parts = detail.map((item: unknown) => {
    const entry = item as { loc?: unknown[]; msg?: unknown; type?: unknown };
    const where = Array.isArray(entry.loc) ? entry.loc.join(".") : "request";
    return `${where}: ${String(entry.msg ?? entry.type ?? "invalid")}`;
  });
  return `Invalid request (${parts.join("; ")})`;
}

/** Builds the ApiError for a response body (already read as text). */
export function apiErrorFromBody(status: number, statusText: string, text: string): ApiError {
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const record = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const message =
    (typeof record.message === "string" && record.message) ||
    summariseValidation(record.detail) ||
    (body === null && text.trim() ? text.trim().slice(0, 300) : "") ||
    `HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
  const code = typeof record.code === "string" ? record.code : null;
  return new ApiError(status, message, code, record.details ?? null, body);
}

/** A readable message for anything a query or action threw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const code = error.code ? ` ${error.code}` : "";
    return error.status > 0 ? `${error.message} (HTTP ${error.status}${code})` : error.message;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
