import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { ApiError, errorMessage } from "./api/errors";
import { App } from "./App";
import { AuthProvider } from "./auth/AuthContext";
import { loadConfig } from "./config";
import "./styles.css";

/** Client errors (4xx) are answers, not glitches: retrying them only delays the message. */
function shouldRetry(failureCount: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
    return false;
  }
  return failureCount < 1;
}

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: shouldRetry, staleTime: 30_000, refetchOnWindowFocus: false },
  },
});

const root = createRoot(document.getElementById("root")!);

loadConfig()
  .then((config) => {
    root.render(
      <StrictMode>
        <QueryClientProvider client={queryClient}>
          <AuthProvider
            config={config}
            storage={window.sessionStorage}
            devServerOrigin={import.meta.env.DEV ? window.location.origin : null}
          >
            <App />
          </AuthProvider>
        </QueryClientProvider>
      </StrictMode>,
    );
  })
  .catch((error: unknown) => {
    root.render(
      <main className="login-screen">
        <div className="error-box" role="alert">
          <strong>The UI cannot start</strong>
          <span className="error-message">{errorMessage(error)}</span>
        </div>
      </main>,
    );
  });
