import { useState, type FormEvent } from "react";

import { useApi } from "../auth/AuthContext";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { DataTable } from "../ui/DataTable";

interface Match {
  rank: number;
  symbol: string;
  start: string;
  end: string;
  distance: number;
  forward_returns: Record<string, number | null>;
  path?: number[];
}
interface TMResult {
  query: { symbol: string; start: string; end: string; window: number; path?: number[] };
  metric: string;
  candidates: number;
  matches: Match[];
  forward: Record<string, { count: number; mean: number; std: number; positive: number; q05: number; q50: number; q95: number }>;
}

const COLORS = ["#60a5fa", "#f59e0b", "#a78bfa", "#f472b6", "#22d3ee", "#facc15", "#fb7185", "#4ade80", "#c084fc", "#94a3b8"];
const pct = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? `${(100 * value).toFixed(2)}%` : "—");

/** The query window (bold) with every match's z-normalized path over it. */
function Overlay({ query, matches }: { query: number[]; matches: Match[] }) {
  const W = 640;
  const H = 260;
  const pad = 24;
  const all = [...query, ...matches.flatMap((m) => m.path ?? [])];
  const low = Math.min(...all);
  const high = Math.max(...all);
  const sx = (i: number) => pad + (i / Math.max(1, query.length - 1)) * (W - 2 * pad);
  const sy = (v: number) => H - pad - ((v - low) / (high - low || 1)) * (H - 2 * pad);
  const line = (values: number[]) => values.map((v, i) => `${sx(i).toFixed(1)},${sy(v).toFixed(1)}`).join(" ");
  return (
    <svg viewBox={`0 0 ${W} ${H}`} className="svg-chart" data-testid="timemachine-overlay" role="img" aria-label="matches overlaid on the query window">
      {matches.map((m, i) => m.path && <polyline key={`${m.symbol}${m.start}`} points={line(m.path)} fill="none" stroke={COLORS[i % COLORS.length]} strokeWidth={1} opacity={0.75} />)}
      <polyline points={line(query)} fill="none" stroke="#e5e7eb" strokeWidth={2.5} />
      <text x={pad} y={14} className="tick">
        z-normalized closes: query window (white) and its matches
      </text>
    </svg>
  );
}

export function TimeMachineTab() {
  const { $api } = useApi();
  const symbolsQuery = $api.useQuery("get", "/v1/marketdata/symbols", {}, { staleTime: 5 * 60_000 });
  const symbols = (symbolsQuery.data?.symbols ?? []).filter((item) => item.datasets.bars_1d).map((item) => item.symbol);
  const [symbol, setSymbol] = useState("");
  const [window, setWindow] = useState("60");
  const [k, setK] = useState("10");
  const [metric, setMetric] = useState<"euclidean" | "dtw">("euclidean");
  const [end, setEnd] = useState("");
  const [allSymbols, setAllSymbols] = useState(false);
  const run = $api.useMutation("post", "/v1/alpha/time-machine/find-matches");
  const chosen = symbol || (symbols.includes("SP500") ? "SP500" : (symbols[0] ?? ""));
  const problems: string[] = [];
  if (!/^\d+$/.test(window) || Number(window) < 5) problems.push(`window must be a whole number ≥ 5, got ${window}`);
  if (!/^\d+$/.test(k) || Number(k) < 1 || Number(k) > 100) problems.push(`k must be a whole number in [1, 100], got ${k}`);
  function submit(event: FormEvent) {
    event.preventDefault();
    if (problems.length || !chosen) return;
    run.mutate({
      body: { symbol: chosen, window: Number(window), k: Number(k), metric, all_symbols: allSymbols, band: 0.1, horizons: [1, 5, 20], paths: true, ...(end ? { end } : {}) },
    });
  }
  const result = run.data as unknown as TMResult | undefined;
  return (
    <div className="analytics">
      <Panel title="Time machine">
        <form className="backtest-form" onSubmit={submit} noValidate data-testid="timemachine-form">
          <div className="field-grid">
            <label className="field">
              <span className="field-label">Symbol</span>
              <select aria-label="Symbol" value={chosen} onChange={(e) => setSymbol(e.target.value)}>
                {symbols.map((item) => (
                  <option key={item}>{item}</option>
                ))}
              </select>
            </label>
            <label className="field">
              <span className="field-label">Window ends (≤)</span>
              <input aria-label="Window end" type="date" value={end} onChange={(e) => setEnd(e.target.value)} />
            </label>
            <label className="field">
              <span className="field-label">Window (bars)</span>
              <input aria-label="Window" value={window} onChange={(e) => setWindow(e.target.value)} />
            </label>
            <label className="field">
              <span className="field-label">Matches (k)</span>
              <input aria-label="Matches" value={k} onChange={(e) => setK(e.target.value)} />
            </label>
            <label className="field">
              <span className="field-label">Distance</span>
              <select aria-label="Distance" value={metric} onChange={(e) => setMetric(e.target.value as "euclidean" | "dtw")}>
                <option value="euclidean">z-normalized Euclidean</option>
                <option value="dtw">DTW</option>
              </select>
            </label>
            <label className="field overlay-toggle">
              <span className="field-label">Search every symbol</span>
              <input type="checkbox" aria-label="Search every symbol" checked={allSymbols} onChange={(e) => setAllSymbols(e.target.checked)} />
            </label>
          </div>
          {problems.length > 0 && (
            <ul className="form-problems">
              {problems.map((item) => (
                <li key={item}>{item}</li>
              ))}
            </ul>
          )}
          {run.isError && <ErrorBox title="The search was refused" error={run.error} />}
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={run.isPending}>
              {run.isPending ? "Searching…" : "Find matches"}
            </button>
          </div>
        </form>
      </Panel>
      <div className="analytics-main">
        {run.isPending && <Loading what="the matches" />}
        {result ? (
          <>
            <Panel
              title={`${result.query.symbol} ${result.query.start} → ${result.query.end}`}
              actions={<Badge tone="info">{result.matches.length} of {result.candidates.toLocaleString("en-US")} windows · {result.metric}</Badge>}
            >
              {result.query.path && <Overlay query={result.query.path} matches={result.matches} />}
            </Panel>
            <Panel title="What happened next">
              <DataTable
                testId="timemachine-forward"
                rows={Object.entries(result.forward).map(([horizon, s]) => ({ horizon: `${horizon}d`, ...s }))}
                columns={[
                  { key: "horizon", label: "Horizon" },
                  { key: "count", label: "Matches", numeric: true },
                  { key: "mean", label: "Mean", numeric: true, render: (r) => pct(r.mean) },
                  { key: "positive", label: "Share > 0", numeric: true, render: (r) => pct(r.positive) },
                  { key: "q05", label: "5th pct", numeric: true, render: (r) => pct(r.q05) },
                  { key: "q50", label: "Median", numeric: true, render: (r) => pct(r.q50) },
                  { key: "q95", label: "95th pct", numeric: true, render: (r) => pct(r.q95) },
                ]}
              />
              <DataTable
                testId="timemachine-matches"
                rows={result.matches}
                rowKey={(m) => `${m.symbol}${m.start}`}
                columns={[
                  { key: "rank", label: "#", numeric: true, render: (m) => <span style={{ color: COLORS[(m.rank - 1) % COLORS.length] }}>■ {m.rank}</span> },
                  { key: "symbol", label: "Symbol" },
                  { key: "start", label: "From" },
                  { key: "end", label: "To" },
                  { key: "distance", label: "Distance", numeric: true, render: (m) => m.distance.toFixed(3) },
                  ...Object.keys(result.forward).map((h) => ({
                    key: `f${h}`,
                    label: `+${h}d`,
                    numeric: true,
                    render: (m: Match) => <span className={(m.forward_returns[h] ?? 0) >= 0 ? "up" : "down"}>{pct(m.forward_returns[h])}</span>,
                  })),
                ]}
              />
            </Panel>
          </>
        ) : (
          !run.isPending && (
            <Panel title="Matches">
              <p className="muted">Find the historical windows most like the latest one, overlaid on it, with what happened next.</p>
            </Panel>
          )
        )}
      </div>
    </div>
  );
}
