import { NavLink, Outlet } from "react-router";

import { useAuth } from "../auth/AuthContext";
import { RequireGroup, TRADING_GROUPS } from "../auth/RequireGroup";
import { Badge } from "../ui/components";

const NAV = [
  { to: "/", label: "Dashboard", end: true },
  { to: "/market", label: "Market", end: false },
  { to: "/trading", label: "Trading", end: false },
  { to: "/risk", label: "Risk", end: false },
  { to: "/reports", label: "Reports", end: false },
  { to: "/backtests", label: "Backtests", end: false },
  { to: "/strategies", label: "Strategies", end: false },
  { to: "/portfolio", label: "Portfolio", end: false },
  { to: "/analytics", label: "Analytics", end: false },
  { to: "/simulations", label: "Simulations", end: false },
  { to: "/models", label: "Models", end: false },
];

export function Layout() {
  const { session, config, signOut } = useAuth();
  const claims = session?.claims;
  return (
    <div className="shell">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Trade2026
          <Badge tone="neutral" title="Deployment stage">
            {config.stage}
            {config.local ? " · local" : ""}
          </Badge>
        </div>
        <nav className="nav" aria-label="Main">
          {NAV.map((item) => (
            <NavLink key={item.to} to={item.to} end={item.end} className={({ isActive }) => (isActive ? "active" : "")}>
              {item.label}
            </NavLink>
          ))}
        </nav>
        <div className="user" data-testid="current-user">
          <RequireGroup
            groups={TRADING_GROUPS}
            fallback={
              <Badge tone="neutral" title="Your groups allow viewing only">
                <span data-testid="role-access">read-only</span>
              </Badge>
            }
          >
            <Badge tone="good" title="Your groups allow trading actions">
              <span data-testid="role-access">trading enabled</span>
            </Badge>
          </RequireGroup>
          <nav aria-label="Account" className="account-nav">
            <NavLink
              to="/notifications"
              className={({ isActive }) => (isActive ? "icon-link active" : "icon-link")}
              aria-label="Notifications"
              title="Notifications: what you are told about, where, and the deliveries"
            >
              <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                <path
                  fill="currentColor"
                  d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6v-5a7 7 0 0 0-5-6.71V3.5a2 2 0 0 0-4 0v.79A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
                />
              </svg>
            </NavLink>
          </nav>
          <span className="user-name" data-testid="user-name">
            {claims?.username}
          </span>
          <span className="user-groups" data-testid="user-groups">
            {claims?.groups.join(", ") || "no group"}
          </span>
          <button type="button" className="btn btn-small" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}
