import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";

import { createApiClient, type Api } from "../api/client";
import { apiBaseUrl, cognitoEndpoint, type PublicConfig } from "../config";
import { CognitoClient, type NewPasswordChallenge } from "./cognito";
import { msUntilExpiry } from "./jwt";
import { SessionStore, type Session } from "./session";

export const SESSION_EXPIRED = "Your session has expired. Sign in again.";

/** What a sign-in attempt needs next: nothing (signed in) or a new password. */
export type SignInStep = { done: true } | { done: false; challenge: NewPasswordChallenge };

export interface AuthContextValue {
  config: PublicConfig;
  session: Session | null;
  /** Why the user was signed out (shown on the login page), if not by their own choice. */
  notice: string | null;
  signIn: (username: string, password: string) => Promise<SignInStep>;
  setNewPassword: (challenge: NewPasswordChallenge, newPassword: string) => Promise<SignInStep>;
  signOut: (notice?: string) => void;
}

export const AuthContext = createContext<AuthContextValue | null>(null);
export const ApiContext = createContext<Api | null>(null);

// setTimeout holds a signed 32-bit delay; longer waits fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

interface AuthProviderProps {
  config: PublicConfig;
  storage: Storage;
  children: ReactNode;
  /** The Vite dev server's origin (it proxies /v1 to the gateway), or null for a built UI. */
  devServerOrigin: string | null;
}

export function AuthProvider({ config, storage, devServerOrigin, children }: AuthProviderProps) {
  const queryClient = useQueryClient();
  const store = useMemo(() => new SessionStore(storage), [storage]);
  const cognito = useMemo(
    () => new CognitoClient(cognitoEndpoint(config), config.userPoolClientId),
    [config],
  );
  const [session, setSession] = useState<Session | null>(() => store.load());
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback(
    (reason?: string) => {
      store.clear();
      setSession(null);
      setNotice(reason ?? null);
      queryClient.clear(); // nothing fetched with the old token outlives it
    },
    [store, queryClient],
  );

  // The API client lives as long as the config; it reads the current token and sign-out through refs.
  const sessionRef = useRef(session);
  sessionRef.current = session;
  const signOutRef = useRef(signOut);
  signOutRef.current = signOut;
  const api = useMemo(
    () =>
      createApiClient(apiBaseUrl(config, devServerOrigin), {
        token: () => sessionRef.current?.idToken ?? null,
        onUnauthorized: () => signOutRef.current(SESSION_EXPIRED),
      }),
    [config, devServerOrigin],
  );

  useEffect(() => {
    if (!session) {
      return undefined;
    }
    const timer = setTimeout(() => signOut(SESSION_EXPIRED), Math.min(msUntilExpiry(session.claims), MAX_TIMER_MS));
    return () => clearTimeout(timer);
  }, [session, signOut]);

  const finish = useCallback(
    (result: Awaited<ReturnType<CognitoClient["login"]>>): SignInStep => {
      if ("challenge" in result) {
        return { done: false, challenge: result };
      }
      setSession(store.save(result.tokens.idToken));
      setNotice(null);
      return { done: true };
    },
    [store],
  );

  const value = useMemo<AuthContextValue>(
    () => ({
      config,
      session,
      notice,
      signIn: async (username, password) => finish(await cognito.login(username, password)),
      setNewPassword: async (challenge, newPassword) => finish(await cognito.setNewPassword(challenge, newPassword)),
      signOut,
    }),
    [config, session, notice, cognito, finish, signOut],
  );

  return (
    <AuthContext.Provider value={value}>
      <ApiContext.Provider value={api}>{children}</ApiContext.Provider>
    </AuthContext.Provider>
  );
}

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (!value) {
    throw new Error("useAuth() needs an <AuthProvider> above it");
  }
  return value;
}

export function useApi(): Api {
  const value = useContext(ApiContext);
  if (!value) {
    throw new Error("useApi() needs an <AuthProvider> above it");
  }
  return value;
}
