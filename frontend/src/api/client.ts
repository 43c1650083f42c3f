import createFetchClient, { type Client, type Middleware } from "openapi-fetch";
import createQueryClient from "openapi-react-query";

import type { paths } from "./schema";
import { ApiError, apiErrorFromBody } from "./errors";

/** Every API route, generated from docs/openapi.json at build time (`npm run gen:api`). */
export type ApiPaths = paths;

export type ApiClient = Client<ApiPaths>;

/** The JSON body of a route's 200 answer, from the generated types. */
export type JsonOk<P extends keyof ApiPaths> = ApiPaths[P] extends {
  get: { responses: { 200: { content: { "application/json": infer Body } } } };
}
  ? Body
  : never;

export interface AuthHooks {
  /** The ID token to send, or null when signed out. */
  token: () => string | null;
  /** Called when the API rejects the token we sent (expired or revoked). */
  onUnauthorized: () => void;
}

/** Sends the ID token and turns every non-2xx answer into a thrown ApiError with the API's message. */
export function authMiddleware(hooks: AuthHooks): Middleware {
  return {
    onRequest({ request }) {
      const token = hooks.token();
      if (token) {
        request.headers.set("Authorization", token);
      }
      return request;
    },
    async onResponse({ request, response }) {
      if (response.ok) {
        return undefined;
      }
      const error = apiErrorFromBody(response.status, response.statusText, await response.clone().text());
      if (response.status === 401 && request.headers.has("Authorization")) {
        hooks.onUnauthorized();
      }
      throw error;
    },
    onError({ request, error }) {
      if (error instanceof DOMException && error.name === "AbortError") {
        return undefined; // a cancelled query, not a failure: let the abort propagate
      }
      const url = new URL(request.url);
      return new ApiError(0, `Cannot reach the API at ${url.origin}: ${String(error)}`);
    },
  };
}

export function createApiClient(baseUrl: string, hooks: AuthHooks, fetchFn?: typeof fetch) {
  const client = createFetchClient<ApiPaths>({ baseUrl, ...(fetchFn ? { fetch: fetchFn } : {}) });
  client.use(authMiddleware(hooks));
  return { client, $api: createQueryClient(client) };
}

export type Api = ReturnType<typeof createApiClient>;
