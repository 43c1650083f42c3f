import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";

import type { components } from "../api/schema";
import { useApi } from "../auth/AuthContext";
import { RequireGroup, TRADING_GROUPS } from "../auth/RequireGroup";
import { Badge, ErrorBox, Loading, Panel, SymbolChips } from "../ui/components";
import { formatUtc } from "../ui/format";
import { FanChart, Histogram, type Fan } from "./charts";

type SimulationRequest = components["schemas"]["SimulationRequest"];
type SimulationInfo = components["schemas"]["SimulationInfo"];

const money = (value: unknown) =>
  typeof value === "number" && Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: 0 }) : "—";
const pct = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? `${(100 * value).toFixed(2)}%` : "—");
const active = (status: string) => !["SUCCEEDED", "FAILED"].includes(status);

interface SimForm {
  model: SimulationRequest["model"];
  symbols: string[];
  paths: string;
  horizon: string;
  wealth: string;
  ruin: string;
  seed: string;
  block: string;
}

export function simulationProblems(form: SimForm): string[] {
  const problems: string[] = [];
  if (form.symbols.length === 0) problems.push("Choose at least one symbol (an equal-weight portfolio is simulated)");
  const paths = Number(form.paths);
  if (!Number.isInteger(paths) || paths < 1 || paths > 1_000_000) problems.push(`paths must be a whole number in [1, 1,000,000], got ${form.paths}`);
  const horizon = Number(form.horizon);
  if (!Number.isInteger(horizon) || horizon < 1 || horizon > 10_000) problems.push(`horizon_days must be a whole number in [1, 10,000], got ${form.horizon}`);
  if (!(Number(form.wealth) > 0)) problems.push(`initial_wealth must be > 0, got ${form.wealth}`);
  const ruin = Number(form.ruin);
  if (!(ruin > 0 && ruin < 1)) problems.push(`ruin_fraction must be in (0, 1), got ${form.ruin}`);
  if (!Number.isInteger(Number(form.seed)) || Number(form.seed) < 0) problems.push(`seed must be a whole number ≥ 0, got ${form.seed}`);
  return problems;
}

interface Result {
  initial_wealth: number;
  terminal_wealth: { mean: number; mean_ci: number[]; histogram?: { edges: number[]; counts: number[] }; quantiles: { q: number[]; value: number[] } };
  max_drawdown: { mean: number; quantiles: { q: number[]; value: number[] } };
  probability_of_ruin: { threshold: number; value: number; ci: number[] };
  probability_of_loss: { value: number; ci: number[] };
  var_cvar: Record<string, { var: number; var_ci: number[]; cvar: number; cvar_ci: number[] }>;
  fan_chart: Fan;
  inputs?: { sample?: { observations?: number; annualized_volatility?: number; mean_daily_return?: number } };
}

function SimulationView({ id }: { id: string }) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const query = $api.useQuery(
    "get",
    "/v1/simulations/{simulation_id}",
    { params: { path: { simulation_id: id } } },
    { refetchInterval: (q) => (q.state.data && active(q.state.data.status) ? 1_500 : false), staleTime: 0 },
  );
  const status = query.data?.status;
  useEffect(() => {
    if (status && !active(status)) void queryClient.invalidateQueries({ queryKey: ["get", "/v1/simulations"] });
  }, [status, queryClient]);
  if (query.isPending) return <Loading what="the simulation" />;
  if (query.isError) return <ErrorBox title="Simulation unavailable" error={query.error} />;
  const sim = query.data;
  const result = sim.result as unknown as Result | null;
  const request = sim.request as { portfolio?: { symbols?: string[] } };
  return (
    <div className="analytics-main" data-testid="simulation-view" data-status={sim.status}>
      <Panel
        title={`${sim.model} · ${sim.paths.toLocaleString("en-US")} paths × ${sim.horizon_days} days`}
        actions={<Badge tone={sim.status === "SUCCEEDED" ? "good" : sim.status === "FAILED" ? "bad" : "info"}>{sim.status}</Badge>}
      >
        <p className="muted small">
          {request.portfolio?.symbols?.join(", ")} · {formatUtc(sim.created_at)} · <code>{sim.id}</code>
        </p>
        {active(sim.status) && (
          <div className="progress-row" data-testid="simulation-progress">
            <div className="progress">
              <div className="progress-fill active" style={{ width: `${100 * (sim.progress ?? 0)}%` }} />
            </div>
            <span className="muted small">
              {sim.tasks_done} / {sim.tasks_total} chunks
            </span>
          </div>
        )}
        {sim.error && <ErrorBox title="The simulation failed" error={new Error(sim.error)} />}
        {result && (
          <div className="metric-cards">
            {[
              ["Mean terminal wealth", money(result.terminal_wealth.mean)],
              ["95% CI of the mean", `${money(result.terminal_wealth.mean_ci[0])} – ${money(result.terminal_wealth.mean_ci[1])}`],
              ["P(loss)", pct(result.probability_of_loss.value)],
              [`P(ruin ≤ ${money(result.probability_of_ruin.threshold)})`, pct(result.probability_of_ruin.value)],
              ["Median max drawdown", pct(result.max_drawdown.quantiles.value[result.max_drawdown.quantiles.q.indexOf(0.5)])],
              ...Object.entries(result.var_cvar).flatMap(([level, v]) => [
                [`VaR ${level}%`, pct(v.var)],
                [`CVaR ${level}%`, pct(v.cvar)],
              ]),
            ].map(([label, value]) => (
              <div key={label} className="metric-card">
                <span className="metric-label">{label}</span>
                <span className="metric-value">{value}</span>
              </div>
            ))}
          </div>
        )}
      </Panel>
      {result && (
        <>
          <Panel title="Wealth fan chart">
            <FanChart fan={result.fan_chart} initial={result.initial_wealth} />
          </Panel>
          {result.terminal_wealth.histogram && (
            <Panel title="Terminal wealth distribution">
              <Histogram
                edges={result.terminal_wealth.histogram.edges}
                counts={result.terminal_wealth.histogram.counts}
                marker={result.initial_wealth}
                testId="terminal-histogram"
              />
              <p className="muted small">Red: paths ending below the initial wealth (dashed line). The extreme 0.5% tails are counted in the end bins.</p>
            </Panel>
          )}
        </>
      )}
    </div>
  );
}

function History({ selected, onOpen }: { selected: string | null; onOpen: (id: string) => void }) {
  const { $api } = useApi();
  const query = $api.useQuery("get", "/v1/simulations", {}, { staleTime: 0 });
  const items = ((query.data as { simulations?: SimulationInfo[] } | undefined)?.simulations ?? []) as SimulationInfo[];
  return (
    <Panel title="Your simulations">
      {query.isError && <ErrorBox title="Simulations unavailable" error={query.error} />}
      {query.data && items.length === 0 && <p className="muted">None yet.</p>}
      <ul className="run-list">
        {items.map((item) => (
          <li key={item.id}>
            <button type="button" className={item.id === selected ? "run-item selected" : "run-item"} onClick={() => onOpen(item.id)}>
              <span className="run-title">
                <Badge tone={item.status === "SUCCEEDED" ? "good" : item.status === "FAILED" ? "bad" : "info"}>{item.status}</Badge>
                <strong>{item.model}</strong> {item.paths.toLocaleString("en-US")} × {item.horizon_days}d
              </span>
              <span className="run-meta">{formatUtc(item.created_at)}</span>
            </button>
          </li>
        ))}
      </ul>
    </Panel>
  );
}

export default function SimulationsPage() {
  const { $api } = useApi();
  const symbolsQuery = $api.useQuery("get", "/v1/marketdata/symbols", {}, { staleTime: 5 * 60_000 });
  const symbols = (symbolsQuery.data?.symbols ?? []).filter((item) => item.datasets.bars_1d).map((item) => item.symbol);
  const [search, setSearch] = useSearchParams();
  const selected = search.get("simulation");
  const [form, setForm] = useState<SimForm>({ model: "bootstrap", symbols: [], paths: "10000", horizon: "252", wealth: "1000000", ruin: "0.5", seed: "0", block: "20" });
  const [touched, setTouched] = useState(false);
  const run = $api.useMutation("post", "/v1/simulations");
  useEffect(() => {
    if (symbols.length > 0 && form.symbols.length === 0) {
      setForm((current) => ({ ...current, symbols: [symbols.includes("SP500") ? "SP500" : symbols[0]!] }));
    }
  }, [symbols.length]);
  const problems = simulationProblems(form);
  const set = (patch: Partial<SimForm>) => setForm({ ...form, ...patch });
  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (problems.length) return;
    const weights = form.symbols.map(() => 1 / form.symbols.length);
    run.mutate(
      {
        body: {
          model: form.model, portfolio: { symbols: form.symbols, weights }, paths: Number(form.paths), horizon_days: Number(form.horizon),
          initial_wealth: Number(form.wealth), ruin_fraction: Number(form.ruin), seed: Number(form.seed), mean_block: Number(form.block), mode: "auto",
        },
      },
      { onSuccess: (sim) => setSearch({ simulation: sim.id }) },
    );
  }
  return (
    <div className="analytics">
      <div className="models-side">
        <Panel title="Monte Carlo">
          <RequireGroup groups={TRADING_GROUPS} fallback={<p className="muted" data-testid="read-only-note">Read-only: viewers cannot start simulations.</p>}>
            <form className="backtest-form" onSubmit={submit} noValidate data-testid="simulation-form">
              <h3 className="subhead">Equal-weight portfolio of</h3>
              <SymbolChips choices={symbols} selected={form.symbols} onChange={(symbols) => set({ symbols })} />
              <div className="field-grid data-grid">
                <label className="field">
                  <span className="field-label">Model</span>
                  <select aria-label="Model" value={form.model} onChange={(e) => set({ model: e.target.value as SimForm["model"] })}>
                    <option value="bootstrap">stationary block bootstrap</option>
                    <option value="gbm">GBM</option>
                    <option value="regime">regime switching</option>
                  </select>
                </label>
                <label className="field">
                  <span className="field-label">Mean block (days)</span>
                  <input aria-label="Mean block" value={form.block} disabled={form.model !== "bootstrap"} onChange={(e) => set({ block: e.target.value })} />
                </label>
                <label className="field">
                  <span className="field-label">Paths</span>
                  <input aria-label="Paths" value={form.paths} onChange={(e) => set({ paths: e.target.value })} />
                </label>
                <label className="field">
                  <span className="field-label">Horizon (days)</span>
                  <input aria-label="Horizon" value={form.horizon} onChange={(e) => set({ horizon: e.target.value })} />
                </label>
                <label className="field">
                  <span className="field-label">Initial wealth</span>
                  <input aria-label="Initial wealth" value={form.wealth} onChange={(e) => set({ wealth: e.target.value })} />
                </label>
                <label className="field">
                  <span className="field-label">Ruin at (share)</span>
                  <input aria-label="Ruin fraction" value={form.ruin} onChange={(e) => set({ ruin: e.target.value })} />
                </label>
                <label className="field">
                  <span className="field-label">Seed</span>
                  <input aria-label="Seed" value={form.seed} onChange={(e) => set({ seed: e.target.value })} />
                </label>
              </div>
              {touched && problems.length > 0 && (
                <ul className="form-problems">
                  {problems.map((item) => (
                    <li key={item}>{item}</li>
                  ))}
                </ul>
              )}
              {run.isError && <ErrorBox title="The simulation was refused" error={run.error} />}
              <div className="form-actions">
                <button type="submit" className="btn btn-primary" disabled={run.isPending}>
                  {run.isPending ? "Simulating…" : "Run simulation"}
                </button>
              </div>
              <p className="muted small">Large runs (paths × days above the synchronous budget) go to Step Functions and show progress.</p>
            </form>
          </RequireGroup>
        </Panel>
        <History selected={selected} onOpen={(id) => setSearch({ simulation: id })} />
      </div>
      {selected ? (
        <SimulationView key={selected} id={selected} />
      ) : (
        <Panel title="Simulation">
          <p className="muted">Run a simulation: the fan chart of wealth, the terminal distribution, VaR/CVaR and the probability of ruin appear here, with confidence intervals.</p>
        </Panel>
      )}
    </div>
  );
}
