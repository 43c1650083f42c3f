import { ApiError } from "../api/errors";
import type { JsonOk } from "../api/client";
import { useApi } from "../auth/AuthContext";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";

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

export function DashboardPage() {
  return (
    <div className="dashboard">
      <HealthPanel />
      <IdentityPanel />
    </div>
  );
}
