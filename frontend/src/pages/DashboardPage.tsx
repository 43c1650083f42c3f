import { Link } from "react-router";

import { ApiError } from "../api/errors";
import type { JsonOk } from "../api/client";
import { useApi } from "../auth/AuthContext";
import { useCompliance } from "../trading/compliance";
import { formatMoney, killState, signClass, useAccount, type AccountView } from "../trading/account";
import { KillBadges } from "../trading/AccountPicker";
import { priceText, StatusBadge } from "../trading/Blotter";
import { usePositions } from "../trading/positions";
import { PositionsTable } from "../trading/PositionsTable";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { formatUtc } from "../ui/format";

type HealthReport = JsonOk<"/v1/health">;

/** GET /v1/health answers 503 with the full report when a resource is down: show it, not just an error. */
function reportOf(data: HealthReport | undefined, error: unknown): HealthReport | null {
  if (data) {
    return data;
  }
  const body = error instanceof ApiError ? (error.body as Partial<HealthReport> | null) : null;
  return body && Array.isArray(body.resources) ? (body as HealthReport) : null;
}

function HealthPanel() {
  const { $api } = useApi();
  const health = $api.useQuery("get", "/v1/health", {}, { refetchInterval: 30_000, retry: false });
  const report = reportOf(health.data, health.error);
  const healthy = report?.resources.filter((resource) => resource.healthy).length ?? 0;
  const actions = (
    <>
      {report && (
        <Badge tone={healthy === report.resources.length ? "good" : "bad"}>
          {healthy}/{report.resources.length} healthy
        </Badge>
      )}
      <button type="button" className="btn btn-small" onClick={() => void health.refetch()} disabled={health.isFetching}>
        {health.isFetching ? "Refreshing…" : "Refresh"}
      </button>
    </>
  );
  return (
    <Panel title="Platform health" actions={actions} className="panel-wide">
      {health.isPending && <Loading what="health" />}
      {!report && health.isError && <ErrorBox title="Health check failed" error={health.error} />}
      {report && (
        <>
          <p className="muted small">
            Status <strong data-testid="health-status">{report.status}</strong> · stage <code>{report.stage}</code>
            {health.dataUpdatedAt > 0 && ` · checked ${new Date(health.dataUpdatedAt).toLocaleTimeString()}`}
          </p>
          <table className="table" data-testid="health-table">
            <thead>
              <tr>
                <th>Kind</th>
                <th>Name</th>
                <th>Healthy</th>
                <th>Detail</th>
              </tr>
            </thead>
            <tbody>
              {report.resources.map((resource) => (
                <tr key={`${resource.kind}/${resource.name}`} data-healthy={resource.healthy}>
                  <td className="nowrap">{resource.kind}</td>
                  <td className="mono">{resource.name}</td>
                  <td>
                    <Badge tone={resource.healthy ? "good" : "bad"}>{resource.healthy ? "healthy" : "unhealthy"}</Badge>
                  </td>
                  <td className="muted">{resource.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Panel>
  );
}

function IdentityPanel() {
  const { $api } = useApi();
  const me = $api.useQuery("get", "/v1/me");
  return (
    <Panel title="Signed in as">
      {me.isPending && <Loading what="identity" />}
      {me.isError && <ErrorBox title="GET /v1/me failed" error={me.error} onRetry={() => void me.refetch()} />}
      {me.data && (
        <dl className="facts" data-testid="identity">
          <dt>Username</dt>
          <dd data-testid="identity-username">{me.data.username}</dd>
          <dt>Email</dt>
          <dd>{me.data.email ?? "—"}</dd>
          <dt>Groups</dt>
          <dd data-testid="identity-groups">
            {me.data.groups.length === 0 ? "none" : me.data.groups.map((group) => <Badge key={group} tone="info">{group}</Badge>)}
          </dd>
          <dt>User id</dt>
          <dd className="mono small">{me.data.user_id}</dd>
        </dl>
      )}
      <p className="muted small">As the API sees you (GET /v1/me, from the verified token).</p>
    </Panel>
  );
}

function Card({ label, value, tone = "", testId }: { label: string; value: string; tone?: string; testId?: string }) {
  return (
    <div className="metric-card">
      <span className="metric-label">{label}</span>
      <span className={`metric-value ${tone}`} data-testid={testId}>
        {value}
      </span>
    </div>
  );
}

function OpenOrders({ accountId }: { accountId: string }) {
  const { $api } = useApi();
  const query = $api.useQuery(
    "get",
    "/v1/accounts/{account_id}/orders",
    { params: { path: { account_id: accountId }, query: { limit: 100 } } },
    { refetchInterval: 10_000, staleTime: 0 },
  );
  const open = (query.data?.orders ?? []).filter((order) => order.status === "accepted" || order.status === "partially_filled");
  return (
    <>
      <h3 className="subhead">
        Open orders <Badge tone="info">{query.data ? open.length : "…"}</Badge>
      </h3>
      {query.isError && <ErrorBox title="Orders unavailable" error={query.error} />}
      {query.data && open.length === 0 && <p className="muted" data-testid="open-orders-empty">No open orders.</p>}
      {open.length > 0 && (
        <table className="table table-numeric" data-testid="open-orders">
          <tbody>
            {open.slice(0, 10).map((order) => (
              <tr key={order.id}>
                <td className="nowrap">{formatUtc(order.created_at)}</td>
                <td>
                  <Link to={`/trading?order=${order.id}`}>{order.symbol}</Link>
                </td>
                <td>{order.side}</td>
                <td className="num">{Number(order.quantity).toLocaleString("en-US")}</td>
                <td className="num">{priceText(order)}</td>
                <td>
                  <StatusBadge status={order.status} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/** What needs attention: kill switches, today's risk rejections, a daily loss. */
function Alerts({ account, pnlToday }: { account: AccountView; pnlToday: string | null | undefined }) {
  const today = new Date().toISOString().slice(0, 10);
  const compliance = useCompliance(account.id, today);
  const alerts: { tone: "bad" | "warn"; text: string }[] = [];
  const own = killState(account.kill_switch);
  const global = killState(account.global_kill_switch);
  if (global) alerts.push({ tone: "bad", text: `Global kill switch engaged by ${global.by ?? "?"}: ${global.reason ?? ""}` });
  if (own) alerts.push({ tone: "bad", text: `Account kill switch engaged by ${own.by ?? "?"}: ${own.reason ?? ""}` });
  const rejections = compliance.report?.rejections.length ?? 0;
  if (rejections > 0) {
    const rules = Object.keys(compliance.report?.rejections_by_rule ?? {}).join(", ");
    alerts.push({ tone: "warn", text: `${rejections} order${rejections === 1 ? "" : "s"} rejected by pre-trade risk today (${rules})` });
  }
  const pnl = Number(pnlToday ?? 0);
  const limit = Number((account.limits as Record<string, unknown>).daily_loss_limit ?? 0);
  if (pnl < 0 && limit > 0 && -pnl >= 0.5 * limit) {
    alerts.push({ tone: "warn", text: `P&L today ${formatMoney(pnl)} is past half the daily loss limit ${formatMoney(limit)}` });
  }
  return (
    <>
      <h3 className="subhead">Alerts</h3>
      {alerts.length === 0 ? (
        <p className="muted" data-testid="alerts-none">
          None.
        </p>
      ) : (
        <ul className="alerts" data-testid="alerts">
          {alerts.map((alert) => (
            <li key={alert.text}>
              <Badge tone={alert.tone}>{alert.tone === "bad" ? "blocked" : "check"}</Badge> {alert.text}{" "}
              {alert.text.includes("rejected") && <Link to="/risk">see the rules</Link>}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function AccountPanel() {
  const state = useAccount();
  const account = state.account;
  const positions = usePositions(account?.id ?? null);
  const summary = positions.report?.summary;
  if (!account) {
    return (
      <Panel title="Paper account" className="panel-wide">
        {state.accounts.isPending && <Loading what="your accounts" />}
        {state.accounts.isError && <ErrorBox title="Accounts unavailable" error={state.accounts.error} />}
        {state.accounts.data && (
          <p className="muted" data-testid="no-account">
            No trading account for this user (accounts belong to traders).
          </p>
        )}
      </Panel>
    );
  }
  return (
    <Panel
      title={
        <>
          Paper account · {account.name} <code className="muted">{account.id}</code>
        </>
      }
      actions={<KillBadges account={account} />}
      className="panel-wide account-panel"
    >
      {positions.isPending && <Loading what="positions" />}
      {positions.isError && <ErrorBox title="Positions unavailable" error={positions.error} />}
      {summary && (
        <div className="metric-cards" data-testid="account-summary">
          <Card label="Equity" value={formatMoney(summary.equity)} testId="summary-equity" />
          <Card label="Cash" value={formatMoney(summary.cash)} testId="summary-cash" />
          <Card
            label="P&L today"
            value={summary.pnl_today === null ? "—" : formatMoney(summary.pnl_today)}
            tone={signClass(summary.pnl_today)}
            testId="summary-pnl-today"
          />
          <Card label="Unrealized" value={formatMoney(summary.unrealized)} tone={signClass(summary.unrealized)} />
          <Card label="Realized" value={formatMoney(summary.realized)} tone={signClass(summary.realized)} />
          <Card label="Gross exposure" value={formatMoney(summary.gross_exposure)} />
        </div>
      )}
      <Alerts account={account} pnlToday={summary?.pnl_today} />
      {positions.report && (
        <>
          <h3 className="subhead">Positions</h3>
          <PositionsTable rows={positions.report.positions} />
        </>
      )}
      <OpenOrders accountId={account.id} />
    </Panel>
  );
}

export function DashboardPage() {
  return (
    <div className="dashboard">
      <div className="dashboard-main">
        <AccountPanel />
        <HealthPanel />
      </div>
      <IdentityPanel />
    </div>
  );
}
