import { useMemo, useState, type FormEvent } from "react";

import { useApi } from "../auth/AuthContext";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { DataTable } from "../ui/DataTable";

interface ScannerParam {
  name: string;
  default: number;
  minimum?: number;
  maximum?: number;
  type: string;
  description?: string;
}
interface Scanner {
  name: string;
  title: string;
  description: string;
  params: ScannerParam[];
}
export interface Catalogue {
  scanners: Scanner[];
  screener_fields: string[];
  screener_ops: string[];
}
interface Hit {
  symbol: string;
  score: number;
  side?: string;
  close?: number;
  values?: Record<string, number>;
  rank: number;
}
interface HorizonStudy {
  hits: number;
  hit_mean: number;
  hit_positive: number;
  bullish_hits?: number;
  bullish_mean?: number;
  bearish_hits?: number;
  bearish_mean?: number;
  universe_mean: number;
  excess_mean: number;
}
interface ScanResult {
  scanner: string;
  as_of: string;
  universe: number;
  scored: number;
  hits: Hit[];
  hits_total: number;
  skipped: { symbol: string; reason: string }[];
  study?: { horizons: Record<string, HorizonStudy>; first_date: string; last_date: string; note: string } | null;
  elapsed_ms: number;
}

const pct = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? `${(100 * value).toFixed(2)}%` : "—");

export function useCatalogue() {
  const { $api } = useApi();
  const query = $api.useQuery("get", "/v1/scanners", {}, { staleTime: 10 * 60_000 });
  return { ...query, catalogue: query.data as unknown as Catalogue | undefined };
}

export function ScannersTab() {
  const { $api } = useApi();
  const { catalogue, isError, error, isPending } = useCatalogue();
  const [name, setName] = useState("");
  const [params, setParams] = useState<Record<string, string>>({});
  const [asOf, setAsOf] = useState("");
  const [universe, setUniverse] = useState("");
  const run = $api.useMutation("post", "/v1/scanners/{name}/run");
  const scanner = useMemo(() => catalogue?.scanners.find((item) => item.name === name) ?? catalogue?.scanners[0], [catalogue, name]);
  if (isPending) return <Loading what="the scanners" />;
  if (isError) return <ErrorBox title="Scanners unavailable" error={error} />;
  if (!scanner) return null;
  const problems = scanner.params.flatMap((spec) => {
    const text = params[spec.name];
    if (text === undefined || text === "") return [];
    const value = Number(text);
    if (!Number.isFinite(value)) return [`${spec.name} must be a number, got ${text}`];
    if ((spec.minimum !== undefined && value < spec.minimum) || (spec.maximum !== undefined && value > spec.maximum)) {
      return [`${spec.name} must be in [${spec.minimum ?? "−∞"}, ${spec.maximum ?? "∞"}], got ${text}`];
    }
    return spec.type === "integer" && !Number.isInteger(value) ? [`${spec.name} must be a whole number, got ${text}`] : [];
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (problems.length || !scanner) return;
    const given = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== "").map(([k, v]) => [k, Number(v)]));
    const symbols = universe.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
    run.mutate({
      params: { path: { name: scanner.name } },
      body: { params: given, horizons: [1, 5, 20], limit: 50, study: true, ...(asOf ? { as_of: asOf } : {}), ...(symbols.length ? { symbols } : {}) },
    });
  }
  const result = run.data as unknown as ScanResult | undefined;
  return (
    <div className="analytics">
      <Panel title="Scanner">
        <form className="backtest-form" onSubmit={submit} noValidate data-testid="scanner-form">
          <label className="field field-wide">
            <span className="field-label">Scanner</span>
            <select aria-label="Scanner" value={scanner.name} onChange={(e) => { setName(e.target.value); setParams({}); run.reset(); }}>
              {catalogue!.scanners.map((item) => (
                <option key={item.name} value={item.name}>
                  {item.title}
                </option>
              ))}
            </select>
          </label>
          <p className="muted small">{scanner.description}</p>
          <div className="field-grid">
            {scanner.params.map((spec) => (
              <label key={spec.name} className="field" title={spec.description}>
                <span className="field-label">{spec.name}</span>
                <input aria-label={spec.name} placeholder={String(spec.default)} value={params[spec.name] ?? ""} onChange={(e) => setParams({ ...params, [spec.name]: e.target.value })} />
              </label>
            ))}
            <label className="field">
              <span className="field-label">As of</span>
              <input aria-label="As of" type="date" value={asOf} onChange={(e) => setAsOf(e.target.value)} />
            </label>
          </div>
          <label className="field field-wide">
            <span className="field-label">Universe (comma list; empty = every daily symbol)</span>
            <input aria-label="Universe" value={universe} onChange={(e) => setUniverse(e.target.value)} />
          </label>
          {problems.length > 0 && (
            <ul className="form-problems">
              {problems.map((item) => (
                <li key={item}>{item}</li>
              ))}
            </ul>
          )}
          {run.isError && <ErrorBox title="The scan was refused" error={run.error} />}
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={run.isPending}>
              {run.isPending ? "Scanning…" : "Run scanner"}
            </button>
          </div>
        </form>
      </Panel>
      <div className="analytics-main">
        {run.isPending && <Loading what="the scan" />}
        {result && (
          <>
            <Panel
              title={`Hits as of ${result.as_of}`}
              actions={
                <Badge tone="info">
                  {result.hits_total} of {result.scored} scored · {result.universe} symbols · {Math.round(result.elapsed_ms)} ms
                </Badge>
              }
            >
              <DataTable
                rows={result.hits}
                testId="scanner-hits"
                empty="No hits on that date."
                rowKey={(row) => row.symbol}
                columns={[
                  { key: "rank", label: "#", numeric: true },
                  { key: "symbol", label: "Symbol", render: (row) => <strong>{row.symbol}</strong> },
                  { key: "side", label: "Side", render: (row) => <span className={row.side === "bullish" ? "up" : row.side === "bearish" ? "down" : ""}>{row.side ?? "—"}</span> },
                  { key: "score", label: "Score", numeric: true, render: (row) => row.score.toFixed(4) },
                  { key: "close", label: "Close", numeric: true, render: (row) => row.close?.toFixed(2) ?? "—" },
                  { key: "values", label: "Numbers behind it", render: (row) => Object.entries(row.values ?? {}).map(([k, v]) => `${k}=${Number(v).toFixed(3)}`).join(" · ") },
                ]}
              />
              {result.skipped.length > 0 && (
                <p className="muted small">
                  Skipped: {result.skipped.map((item) => `${item.symbol} (${item.reason})`).join("; ")}
                </p>
              )}
            </Panel>
            {result.study && (
              <Panel title={`Forward-return study ${result.study.first_date} → ${result.study.last_date}`}>
                <DataTable
                  testId="scanner-study"
                  rows={Object.entries(result.study.horizons).map(([horizon, s]) => ({ horizon: `${horizon}d`, ...s }))}
                  columns={[
                    { key: "horizon", label: "Horizon" },
                    { key: "hits", label: "Hits", numeric: true },
                    { key: "hit_mean", label: "Mean after hit", numeric: true, render: (r) => pct(r.hit_mean) },
                    { key: "hit_positive", label: "Share > 0", numeric: true, render: (r) => pct(r.hit_positive) },
                    { key: "bullish_mean", label: "Bullish mean", numeric: true, render: (r) => pct(r.bullish_mean) },
                    { key: "bearish_mean", label: "Bearish mean", numeric: true, render: (r) => pct(r.bearish_mean) },
                    { key: "universe_mean", label: "Universe mean", numeric: true, render: (r) => pct(r.universe_mean) },
                    { key: "excess_mean", label: "Excess", numeric: true, render: (r) => <span className={r.excess_mean >= 0 ? "up" : "down"}>{pct(r.excess_mean)}</span> },
                  ]}
                />
                <p className="muted small">{result.study.note}</p>
              </Panel>
            )}
          </>
        )}
        {!result && !run.isPending && (
          <Panel title="Hits">
            <p className="muted">Run a scanner: its ranked hits with the numbers behind them, and the average forward 1/5/20-day return of its past hits (no look-ahead).</p>
          </Panel>
        )}
      </div>
    </div>
  );
}
