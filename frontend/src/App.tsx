import { lazy, Suspense, type ReactNode } from "react";
import { createBrowserRouter, Link, Navigate, RouterProvider, useLocation } from "react-router";

import { useAuth } from "./auth/AuthContext";
import { DashboardPage } from "./pages/DashboardPage";
import { LoginPage } from "./pages/LoginPage";
import { Layout } from "./shell/Layout";
import { Loading, Panel } from "./ui/components";

// The chart library is only downloaded when a page with charts (Market, Backtests) is opened.
const MarketPage = lazy(() => import("./market/MarketPage"));
const BacktestsPage = lazy(() => import("./backtests/BacktestsPage"));
const TradingPage = lazy(() => import("./trading/TradingPage"));
const RiskPage = lazy(() => import("./risk/RiskPage"));
const ReportsPage = lazy(() => import("./reports/ReportsPage"));
const PortfolioPage = lazy(() => import("./portfolio/PortfolioPage"));
const AnalyticsPage = lazy(() => import("./analytics/AnalyticsPage"));
const SimulationsPage = lazy(() => import("./simulations/SimulationsPage"));
const ModelsPage = lazy(() => import("./models/ModelsPage"));
const StrategiesPage = lazy(() => import("./strategies/StrategiesPage"));
const NotificationsPage = lazy(() => import("./notifications/NotificationsPage"));

/** A page loaded on first visit (its code, and its chart library, are separate chunks). */
function lazyPage(path: string, what: string, Page: ReturnType<typeof lazy>) {
  return {
    path,
    element: (
      <Suspense fallback={<Loading what={what} />}>
        <Page />
      </Suspense>
    ),
  };
}

function RequireAuth({ children }: { children: ReactNode }) {
  const { session } = useAuth();
  const location = useLocation();
  if (!session) {
    return <Navigate to="/login" replace state={{ from: location }} />;
  }
  return <>{children}</>;
}

function NotFound() {
  const location = useLocation();
  return (
    <Panel title="Page not found">
      <p>
        There is no page at <code>{location.pathname}</code>. <Link to="/">Back to the dashboard</Link>.
      </p>
    </Panel>
  );
}

const router = createBrowserRouter([
  { path: "/login", element: <LoginPage /> },
  {
    path: "/",
    element: (
      <RequireAuth>
        <Layout />
      </RequireAuth>
    ),
    children: [
      { index: true, element: <DashboardPage /> },
      {
        path: "market",
        element: (
          <Suspense fallback={<Loading what="the market page" />}>
            <MarketPage />
          </Suspense>
        ),
      },
      {
        path: "backtests",
        element: (
          <Suspense fallback={<Loading what="the backtests page" />}>
            <BacktestsPage />
          </Suspense>
        ),
      },
      lazyPage("trading", "the trading page", TradingPage),
      lazyPage("risk", "the risk page", RiskPage),
      lazyPage("reports", "the reports page", ReportsPage),
      lazyPage("portfolio", "the portfolio page", PortfolioPage),
      lazyPage("analytics", "the analytics page", AnalyticsPage),
      lazyPage("simulations", "the simulations page", SimulationsPage),
      lazyPage("models", "the models page", ModelsPage),
      lazyPage("strategies", "the strategies page", StrategiesPage),
      lazyPage("notifications", "the notifications page", NotificationsPage),
      { path: "*", element: <NotFound /> },
    ],
  },
]);

export function App() {
  return <RouterProvider router={router} />;
}
