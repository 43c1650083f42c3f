import type { ReactNode } from "react";

import { hasAnyGroup } from "./jwt";
import { useAuth } from "./AuthContext";

/** Groups that may place and manage orders (the API checks this again on every call). */
export const TRADING_GROUPS = ["trader", "admin"] as const;

interface RequireGroupProps {
  /** The user needs at least one of these Cognito groups. */
  groups: readonly string[];
  children: ReactNode;
  /** What members of other groups see instead (nothing by default). */
  fallback?: ReactNode;
}

/**
 * Shows its children only to members of one of `groups`. This hides actions a role cannot take; it is
 * not a security boundary (the groups come from the unverified token): the API authorizes every call.
 */
export function RequireGroup({ groups, children, fallback = null }: RequireGroupProps) {
  const { session } = useAuth();
  return <>{session && hasAnyGroup(session.claims.groups, groups) ? children : fallback}</>;
}
