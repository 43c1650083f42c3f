import { useApi } from "../auth/AuthContext";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { formatUtc } from "../ui/format";
import { num, pct, signedPct, tone } from "./format";
import { statusTone } from "./SweepView";
import { isActive, type BacktestMetrics, type RunInfo, type RunList, type SweepSummary } from "./types";

function Headline({ run }: { run: RunInfo }) {
  if (run.kind === "sweep") {
    if (isActive(run.status)) {
      return (
        <span className="muted">
          {run.chunks_done ?? 0}/{run.chunks_total ?? 0} chunks
        </span>
      );
    }
    const summary = run.summary as unknown as SweepSummary | null;
    if (!summary) {
      return <span className="muted">{run.error ?? "no result"}</span>;
    }
    return (
      <span>
        {summary.configs.toLocaleString("en-US")} configs · Sharpe {num(summary.best[0]?.metrics.sharpe)} · PBO{" "}
        {pct(summary.pbo, 0)}
      </span>
    );
  }
  const metrics = run.summary as unknown as BacktestMetrics | null;
  return metrics ? (
    <span>
      <span className={tone(metrics.total_return)}>{signedPct(metrics.total_return, 1)}</span> · Sharpe {num(metrics.sharpe)}
    </span>
  ) : (
    <span className="muted">—</span>
  );
}

/** The user's backtests and sweeps, newest first; refreshed while a sweep runs. */
export function RunHistory({ selected, onOpen }: { selected: string | null; onOpen: (run: RunInfo) => void }) {
  const { $api } = useApi();
  const runs = $api.useQuery("get", "/v1/backtests", {}, {
    refetchInterval: (query) => (query.state.data?.runs.some((run) => isActive(run.status)) ? 3_000 : false),
  });
  const list = (runs.data as unknown as RunList | undefined)?.runs ?? [];
  return (
    <Panel
      title="Your runs"
      className="run-history"
      actions={
        <button type="button" className="btn btn-small" onClick={() => void runs.refetch()} disabled={runs.isFetching}>
          {runs.isFetching ? "…" : "Refresh"}
        </button>
      }
    >
      {runs.isPending && <Loading what="your runs" />}
      {runs.isError && <ErrorBox title="Runs unavailable" error={runs.error} onRetry={() => void runs.refetch()} />}
      {runs.data && list.length === 0 && (
        <p className="muted small" data-testid="run-history-empty">
          No backtests or sweeps yet.
        </p>
      )}
      <ul className="run-list" data-testid="run-history">
        {list.map((run) => (
          <li key={run.id}>
            <button
              type="button"
              className={run.id === selected ? "run-item selected" : "run-item"}
              onClick={() => onOpen(run)}
              data-testid="run-item"
              data-kind={run.kind}
            >
              <span className="run-title">
                <Badge tone={run.kind === "sweep" ? "info" : "neutral"}>{run.kind}</Badge>
                <strong>{run.strategy}</strong>
                {run.status !== "SUCCEEDED" && <Badge tone={statusTone(run.status)}>{run.status}</Badge>}
              </span>
              <span className="run-meta">
                {run.symbols.join(", ")} · {formatUtc(run.created_at)}
              </span>
              <span className="run-meta">
                <Headline run={run} />
              </span>
            </button>
          </li>
        ))}
      </ul>
    </Panel>
  );
}
