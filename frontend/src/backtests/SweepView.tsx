import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { RequireGroup, TRADING_GROUPS } from "../auth/RequireGroup";
import { useApi } from "../auth/AuthContext";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { formatUtc } from "../ui/format";
import { dsrVerdict, num, pct, signedPct, tone } from "./format";
import { paramText, splitParams } from "./params";
import { PboPanel } from "./PboPanel";
import { isActive, type DeflatedSharpe, type ParamValue, type RunInfo, type SweepSummary } from "./types";

const POLL_MS = 2_000;

export function statusTone(status: string): "good" | "bad" | "info" | "neutral" {
  if (status === "SUCCEEDED") {
    return "good";
  }
  if (status === "FAILED" || status === "ABORTED" || status === "TIMED_OUT") {
    return "bad";
  }
  return isActive(status) ? "info" : "neutral";
}

function Progress({ run }: { run: RunInfo }) {
  const total = run.chunks_total ?? 0;
  const done = run.chunks_done ?? 0;
  const share = total > 0 ? Math.min(1, done / total) : 0;
  return (
    <div className="progress-row">
      <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={total} aria-valuenow={done} data-testid="sweep-progress">
        <div className={isActive(run.status) ? "progress-fill active" : "progress-fill"} style={{ width: `${share * 100}%` }} />
      </div>
      <span className="small nowrap" data-testid="sweep-chunks">
        {done} / {total} chunks
      </span>
    </div>
  );
}

function Ranking({ summary, onBacktest }: { summary: SweepSummary; onBacktest: (params: Record<string, ParamValue>) => void }) {
  const { varying, constant } = splitParams(summary.best.map((row) => row.params));
  return (
    <Panel
      className="ranking-panel"
      title={`Ranking by Sharpe (top ${summary.best.length} of ${summary.configs.toLocaleString("en-US")})`}
      actions={
        constant.length > 0 && (
          <span className="muted small">all with {constant.map(([name, value]) => `${name}=${paramText(value)}`).join(", ")}</span>
        )
      }
    >
      <table className="table table-numeric" data-testid="sweep-ranking">
        <thead>
          <tr>
            <th className="num">#</th>
            {varying.map((name) => (
              <th key={name} className="num">
                {name}
              </th>
            ))}
            <th className="num">Sharpe</th>
            <th className="num">CAGR</th>
            <th className="num">Total</th>
            <th className="num">Max DD</th>
            <th className="num" title="Share of bars with a position">Exp.</th>
            <th className="num">Trades</th>
            <th className="num">Hit</th>
            <th className="num" title="Profit factor">PF</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {summary.best.map((row) => {
            const m = row.metrics;
            return (
              <tr key={row.rank}>
                <td className="num muted">{row.rank}</td>
                {varying.map((name) => (
                  <td key={name} className="num">
                    {paramText(row.params[name])}
                  </td>
                ))}
                <td className={`num ${tone(m.sharpe)}`}>{num(m.sharpe)}</td>
                <td className={`num ${tone(m.annualized_return)}`}>{signedPct(m.annualized_return)}</td>
                <td className={`num ${tone(m.total_return)}`}>{signedPct(m.total_return, 1)}</td>
                <td className="num">{pct(m.max_drawdown, 1)}</td>
                <td className="num">{pct(m.exposure, 0)}</td>
                <td className="num">{m.n_trades ?? "—"}</td>
                <td className="num">{pct(m.hit_rate, 0)}</td>
                <td className="num">{num(m.profit_factor)}</td>
                <td>
                  <RequireGroup groups={TRADING_GROUPS}>
                    <button
                      type="button"
                      className="btn btn-small"
                      title="Put these parameters in the backtest form"
                      onClick={() => onBacktest(row.params)}
                    >
                      Backtest
                    </button>
                  </RequireGroup>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Panel>
  );
}

function DeflatedSharpePanel({ dsr }: { dsr: DeflatedSharpe }) {
  const verdict = dsr.dsr === null ? null : dsrVerdict(dsr.dsr, dsr.n_trials);
  return (
    <Panel title="Deflated Sharpe ratio of the best configuration" className="dsr-panel">
      <div className="pbo-headline">
        <span className="pbo-value" data-testid="dsr-value">
          {pct(dsr.dsr, 1)}
        </span>
        {verdict && <Badge tone={verdict.tone}>{verdict.label}</Badge>}
      </div>
      {verdict && <p className="small">{verdict.text}</p>}
      <dl className="facts facts-numeric">
        <dt title="Probabilistic Sharpe ratio against zero, ignoring how many configurations were tried">PSR (no deflation)</dt>
        <dd>{pct(dsr.psr, 1)}</dd>
        <dt>Sharpe per bar</dt>
        <dd>{num(dsr.sharpe, 4)}</dd>
        <dt title="The Sharpe ratio per bar the best of this many trials would reach by luck alone">Expected max Sharpe (luck)</dt>
        <dd>{num(dsr.expected_max_sharpe, 4)}</dd>
        <dt>Trials</dt>
        <dd>{dsr.n_trials.toLocaleString("en-US")}</dd>
        {dsr.n_obs !== undefined && (
          <>
            <dt>Bars</dt>
            <dd>{dsr.n_obs.toLocaleString("en-US")}</dd>
          </>
        )}
      </dl>
    </Panel>
  );
}

/** A sweep: its progress while it runs (polled every 2 s), then the ranking, the deflated Sharpe and PBO. */
export function SweepView({ sweepId, onBacktest }: {
  sweepId: string;
  onBacktest: (run: RunInfo, params: Record<string, ParamValue>) => void;
}) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const sweep = $api.useQuery(
    "get",
    "/v1/backtests/sweeps/{sweep_id}",
    { params: { path: { sweep_id: sweepId } } },
    { refetchInterval: (query) => (query.state.data && !isActive(query.state.data.status) ? false : POLL_MS) },
  );
  const status = sweep.data?.status;
  useEffect(() => {
    // The history polls on its own clock: tell it as soon as this sweep has finished.
    if (status && !isActive(status)) {
      void queryClient.invalidateQueries({ queryKey: ["get", "/v1/backtests"] });
    }
  }, [status, queryClient]);
  if (sweep.isPending) {
    return <Loading what="the sweep" />;
  }
  if (sweep.isError) {
    return <ErrorBox title="Sweep unavailable" error={sweep.error} onRetry={() => void sweep.refetch()} />;
  }
  const run = sweep.data as unknown as RunInfo;
  const summary = run.status === "SUCCEEDED" ? (run.summary as unknown as SweepSummary | null) : null;
  return (
    <div className="sweep-view" data-testid="sweep-view">
      <Panel
        title="Sweep"
        actions={
          <Badge tone={statusTone(run.status)}>
            <span data-testid="sweep-status">{run.status}</span>
          </Badge>
        }
      >
        <p className="small sweep-meta">
          <strong>{run.strategy}</strong> on {run.symbols.join(", ")} · started {formatUtc(run.created_at)} ·{" "}
          <code className="muted">{run.id}</code>
        </p>
        <Progress run={run} />
        {run.error && <ErrorBox title="The sweep failed" error={new Error(run.error)} />}
      </Panel>
      {summary && (
        <>
          <Ranking summary={summary} onBacktest={(params) => onBacktest(run, params)} />
          <div className="sweep-stats">
            <DeflatedSharpePanel dsr={summary.deflated_sharpe} />
            <PboPanel sweepId={run.id} />
          </div>
        </>
      )}
    </div>
  );
}
