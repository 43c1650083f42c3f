import { useState, type FormEvent } from "react";
import { Navigate, useLocation } from "react-router";

import { useAuth } from "../auth/AuthContext";
import type { NewPasswordChallenge } from "../auth/cognito";
import { ErrorBox } from "../ui/components";

/** Where to go after signing in: the page that sent the user here, or the dashboard. */
function nextPath(state: unknown): string {
  const from = (state as { from?: { pathname?: string; search?: string } } | null)?.from;
  return from?.pathname && from.pathname !== "/login" ? `${from.pathname}${from.search ?? ""}` : "/";
}

export function LoginPage() {
  const { session, notice, config, signIn, setNewPassword } = useAuth();
  const location = useLocation();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [newPassword, setNewPasswordValue] = useState("");
  const [challenge, setChallenge] = useState<NewPasswordChallenge | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (session) {
    return <Navigate to={nextPath(location.state)} replace />;
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const step = challenge ? await setNewPassword(challenge, newPassword) : await signIn(username.trim(), password);
      setChallenge(step.done ? null : step.challenge);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login-screen">
      <form className="login-card" onSubmit={submit} aria-label="Sign in">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          Trade2026
        </div>
        <p className="muted">
          Sign in with your user pool account
          {config.local && (
            <>
              {" "}
              (demo logins are printed by <code>make up</code> and kept in <code>.localcloud/demo-logins.json</code>)
            </>
          )}
          .
        </p>
        {notice && (
          <div className="notice" role="status" data-testid="login-notice">
            {notice}
          </div>
        )}
        {challenge ? (
          <label>
            New password (required before the first sign-in)
            <input
              type="password"
              name="new-password"
              autoComplete="new-password"
              value={newPassword}
              onChange={(event) => setNewPasswordValue(event.target.value)}
              required
              autoFocus
            />
          </label>
        ) : (
          <>
            <label>
              Username
              <input
                name="username"
                autoComplete="username"
                value={username}
                onChange={(event) => setUsername(event.target.value)}
                required
                autoFocus
              />
            </label>
            <label>
              Password
              <input
                type="password"
                name="password"
                autoComplete="current-password"
                value={password}
                onChange={(event) => setPassword(event.target.value)}
                required
              />
            </label>
          </>
        )}
        {error !== null && <ErrorBox title="Sign-in failed" error={error} />}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Signing in…" : challenge ? "Set password and sign in" : "Sign in"}
        </button>
        <p className="muted small">
          Stage <code>{config.stage}</code> · region <code>{config.region}</code>
          {config.local ? " · local cloud" : ""}
        </p>
      </form>
    </main>
  );
}
