import { useState, type FormEvent } from "react";

import { useApi } from "../auth/AuthContext";
import { ErrorBox, Loading, Panel, SymbolChips } from "../ui/components";
import { LineChart } from "./LineChart";

interface PhysicsResult {
  dates: string[];
  returns_used: number;
  symbols: Record<string, Record<string, (number | null)[]>>;
  cross_section: Record<string, (number | null)[]>;
}

const COLORS = ["#34d399", "#60a5fa", "#f59e0b", "#f472b6", "#a78bfa", "#22d3ee"];
const PER_SYMBOL = ["permutation_entropy", "shannon_entropy", "early_warning", "pressure"];

export function PhysicsTab() {
  const { $api } = useApi();
  const symbolsQuery = $api.useQuery("get", "/v1/marketdata/symbols", {}, { staleTime: 5 * 60_000 });
  const available = (symbolsQuery.data?.symbols ?? []).filter((item) => item.datasets.bars_1d).map((item) => item.symbol);
  const [chosen, setChosen] = useState<string[] | null>(null);
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const run = $api.useMutation("post", "/v1/physics/signals");
  const symbols = chosen ?? available.slice(0, 6);
  function submit(event: FormEvent) {
    event.preventDefault();
    if (symbols.length === 0) return;
    run.mutate({ body: { symbols, max_points: 600, ...(start ? { start } : {}), ...(end ? { end } : {}) } as never });
  }
  const result = run.data as unknown as PhysicsResult | undefined;
  return (
    <div className="analytics">
      <Panel title="Physics signals">
        <form className="backtest-form" onSubmit={submit} noValidate data-testid="physics-form">
          <SymbolChips choices={available} selected={symbols} onChange={setChosen} />
          <div className="field-grid data-grid">
            <label className="field">
              <span className="field-label">Start</span>
              <input aria-label="Start" type="date" value={start} onChange={(e) => setStart(e.target.value)} />
            </label>
            <label className="field">
              <span className="field-label">End</span>
              <input aria-label="End" type="date" value={end} onChange={(e) => setEnd(e.target.value)} />
            </label>
          </div>
          {symbols.length === 0 && <p className="form-problems">Choose at least one symbol</p>}
          {run.isError && <ErrorBox title="The signals were refused" error={run.error} />}
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={run.isPending}>
              {run.isPending ? "Computing…" : "Compute signals"}
            </button>
          </div>
          <p className="muted small">Entropy (Shannon, permutation), critical slowing down (variance/autocorrelation trends), pressure; across the symbols: turbulence, percolation, market entropy and a regime score.</p>
        </form>
      </Panel>
      <div className="analytics-main" data-testid="physics-results">
        {run.isPending && <Loading what="the signals" />}
        {result && (
          <>
            {Object.entries(result.cross_section).map(([name, values]) => (
              <Panel key={name} title={name.replace(/_/g, " ")}>
                <LineChart dates={result.dates} series={[{ label: name, color: "#34d399", values }]} height={140} testId={`physics-${name}`} />
              </Panel>
            ))}
            {PER_SYMBOL.map((signal) => (
              <Panel key={signal} title={`${signal.replace(/_/g, " ")} by symbol`}>
                <LineChart
                  dates={result.dates}
                  height={150}
                  series={Object.entries(result.symbols).map(([symbol, signals], i) => ({ label: symbol, color: COLORS[i % COLORS.length]!, values: signals[signal] ?? [] }))}
                />
              </Panel>
            ))}
          </>
        )}
        {!result && !run.isPending && (
          <Panel title="Signals over time">
            <p className="muted">Compute the signals for a set of symbols to see them over time.</p>
          </Panel>
        )}
      </div>
    </div>
  );
}
