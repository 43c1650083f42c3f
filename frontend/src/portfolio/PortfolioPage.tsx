import { useEffect, useState, type FormEvent, type ReactNode } from "react";

import { useApi } from "../auth/AuthContext";
import { EquityChart } from "../backtests/EquityChart";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { FrontierChart, GroupedBars, SpectrumChart, type Point } from "./charts";
import {
  buildCovarianceRequest,
  buildOptimizeRequest,
  COV_METHODS,
  defaultPortfolioForm,
  METHODS,
  MU_METHODS,
  portfolioProblems,
  REBALANCES,
  type CovarianceResponse,
  type OptimizeResponse,
  type PortfolioForm,
} from "./form";

const pct = (value: number | null | undefined, digits = 2) =>
  value === null || value === undefined || !Number.isFinite(value) ? "—" : `${(100 * value).toFixed(digits)}%`;

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      {children}
    </label>
  );
}

interface Series {
  dates: string[];
  equity: number[];
  drawdown: number[];
  rolling_sharpe: (number | null)[] | null;
}

function Results({ result, covariance, frontier }: {
  result: OptimizeResponse;
  covariance: CovarianceResponse | null;
  frontier: OptimizeResponse["frontier"];
}) {
  const symbols = [...result.symbols].sort((a, b) => (result.weights[b] ?? 0) - (result.weights[a] ?? 0));
  const metrics = result.backtest.metrics as Record<string, number | null>;
  const series = result.backtest.series as unknown as Series;
  const assets: Point[] = covariance
    ? result.symbols.map((symbol) => ({
        x: covariance.volatilities[symbol] ?? 0,
        y: result.expected_returns_used[symbol] ?? 0,
        label: symbol,
      }))
    : [];
  const chosen = { x: result.volatility, y: result.expected_return, label: result.method };
  return (
    <div className="portfolio-results" data-testid="portfolio-results">
      <div className="metric-cards">
        {[
          ["Expected return", pct(result.expected_return)],
          ["Volatility", pct(result.volatility)],
          ["Sharpe", result.sharpe === null ? "—" : result.sharpe.toFixed(2)],
          ["Backtest return", pct(metrics.total_return)],
          ["Backtest Sharpe", metrics.sharpe === null || metrics.sharpe === undefined ? "—" : Number(metrics.sharpe).toFixed(2)],
          ["Max drawdown", pct(metrics.max_drawdown)],
          ["Observations", result.observations.toLocaleString("en-US")],
        ].map(([label, value]) => (
          <div key={label} className="metric-card">
            <span className="metric-label">{label}</span>
            <span className="metric-value">{value}</span>
          </div>
        ))}
      </div>
      <div className="portfolio-charts">
        <Panel title="Weights and risk contributions" actions={<span className="muted small">{result.start} → {result.end}</span>}>
          <GroupedBars
            symbols={symbols}
            testId="weights-chart"
            series={[
              { label: "weight", color: "#34d399", values: result.weights },
              { label: "share of variance", color: "#f59e0b", values: result.variance_shares },
            ]}
          />
          <div className="table-scroll">
          <table className="table table-numeric" data-testid="weights-table">
            <thead>
              <tr>
                <th>Symbol</th>
                <th className="num">Weight</th>
                <th className="num" title="w_i (Σw)_i / σ: sums to the volatility">Risk contr.</th>
                <th className="num">Var. share</th>
                <th className="num">Exp. return</th>
              </tr>
            </thead>
            <tbody>
              {symbols.map((symbol) => (
                <tr key={symbol} data-testid="weight-row">
                  <td>{symbol}</td>
                  <td className="num">{pct(result.weights[symbol])}</td>
                  <td className="num">{pct(result.risk_contributions[symbol])}</td>
                  <td className="num">{pct(result.variance_shares[symbol])}</td>
                  <td className="num">{pct(result.expected_returns_used[symbol])}</td>
                </tr>
              ))}
            </tbody>
          </table>
          </div>
        </Panel>
        <Panel title="Efficient frontier">
          {frontier && frontier.length > 0 ? (
            <FrontierChart
              frontier={frontier.map((p) => ({ x: p.volatility, y: p.expected_return }))}
              assets={assets}
              chosen={chosen}
            />
          ) : (
            <p className="muted">No frontier for these constraints.</p>
          )}
          <p className="muted small">Annualized; grey dots are the single assets, the ring is this portfolio ({result.method}).</p>
        </Panel>
        <Panel
          title="Covariance spectrum"
          actions={covariance && <Badge tone="info">{covariance.spectrum.n_factors} above λ+</Badge>}
        >
          {covariance ? (
            <>
              <SpectrumChart
                eigenvalues={covariance.spectrum.sample_eigenvalues}
                lambdaMinus={covariance.spectrum.lambda_minus}
                lambdaPlus={covariance.spectrum.lambda_plus}
              />
              <p className="muted small" data-testid="spectrum-note">
                {covariance.symbols.length} assets, {covariance.observations} observations (q = {covariance.spectrum.q.toFixed(1)}): eigenvalues of the
                sample correlation inside the Marchenko-Pastur band [{covariance.spectrum.lambda_minus.toFixed(2)},{" "}
                {covariance.spectrum.lambda_plus.toFixed(2)}] are indistinguishable from noise; {covariance.spectrum.n_factors} {covariance.spectrum.n_factors === 1 ? "lies" : "lie"} above it.
              </p>
            </>
          ) : (
            <Loading what="the covariance spectrum" />
          )}
        </Panel>
        <Panel title={`Backtest: ${result.backtest.rebalance} rebalance (${result.backtest.rebalances} rebalances)`}>
          {result.backtest.in_sample && (
            <p className="small">
              <Badge tone="warn">in sample</Badge> <span className="muted">the weights were estimated on these same prices</span>
            </p>
          )}
          <EquityChart dates={series.dates} equity={series.equity} drawdown={series.drawdown} rollingSharpe={series.rolling_sharpe} />
        </Panel>
      </div>
    </div>
  );
}

export default function PortfolioPage() {
  const { $api } = useApi();
  const symbolsQuery = $api.useQuery("get", "/v1/marketdata/symbols", {}, { staleTime: 5 * 60_000 });
  const available = (symbolsQuery.data?.symbols ?? []).filter((item) => item.datasets.bars_1d).map((item) => item.symbol);
  const [form, setForm] = useState<PortfolioForm>(defaultPortfolioForm);
  const [touched, setTouched] = useState(false);
  const optimize = $api.useMutation("post", "/v1/portfolio/optimize");
  const frontier = $api.useMutation("post", "/v1/portfolio/optimize");
  const covariance = $api.useMutation("post", "/v1/portfolio/covariance");
  useEffect(() => {
    if (available.length >= 2 && form.symbols.length === 0) {
      // Default: the single stocks when loaded (stocks20), else everything.
      const stocks = available.filter((symbol) => !["SP500", "NASDAQ"].includes(symbol));
      setForm((current) => ({ ...current, symbols: (stocks.length >= 2 ? stocks : available).slice(0, 8) }));
    }
  }, [available.length, form.symbols.length]);
  const problems = portfolioProblems(form);
  const set = (patch: Partial<PortfolioForm>) => setForm({ ...form, ...patch });

  function run(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (problems.length > 0) {
      return;
    }
    optimize.mutate({ body: buildOptimizeRequest(form) });
    covariance.mutate({ body: buildCovarianceRequest(form) });
    if (form.method !== "efficient_frontier") {
      frontier.mutate({ body: buildOptimizeRequest(form, "efficient_frontier") });
    } else {
      frontier.reset();
    }
  }
  const toggle = (symbol: string) =>
    set({ symbols: form.symbols.includes(symbol) ? form.symbols.filter((item) => item !== symbol) : [...form.symbols, symbol] });
  const frontierPoints = form.method === "efficient_frontier" ? optimize.data?.frontier : frontier.data?.frontier;

  return (
    <div className="portfolio">
      <Panel title="Optimizer" className="portfolio-config">
        <form onSubmit={run} noValidate className="backtest-form" data-testid="optimizer-form">
          <h3 className="subhead">Symbols ({form.symbols.length})</h3>
          {symbolsQuery.isError && <ErrorBox title="Symbols unavailable" error={symbolsQuery.error} />}
          <div className="symbol-chips portfolio-chips" role="group" aria-label="Symbols">
            {available.map((symbol) => (
              <label key={symbol} className={form.symbols.includes(symbol) ? "chip selected" : "chip"}>
                <input type="checkbox" checked={form.symbols.includes(symbol)} onChange={() => toggle(symbol)} />
                {symbol}
              </label>
            ))}
          </div>
          <h3 className="subhead">Method</h3>
          <Field label="Method">
            <select aria-label="Method" value={form.method} onChange={(e) => set({ method: e.target.value as PortfolioForm["method"] })}>
              {METHODS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </Field>
          <div className="field-grid">
            {form.method === "efficient_return" && (
              <Field label="Target return (annual)">
                <input aria-label="Target return" value={form.targetReturn} onChange={(e) => set({ targetReturn: e.target.value })} />
              </Field>
            )}
            {form.method === "efficient_risk" && (
              <Field label="Target volatility (annual)">
                <input aria-label="Target volatility" value={form.targetVolatility} onChange={(e) => set({ targetVolatility: e.target.value })} />
              </Field>
            )}
            <Field label="Covariance">
              <select aria-label="Covariance" value={form.covariance} onChange={(e) => set({ covariance: e.target.value as PortfolioForm["covariance"] })}>
                {COV_METHODS.map((item) => (
                  <option key={item}>{item}</option>
                ))}
              </select>
            </Field>
            <Field label="Expected returns">
              <select aria-label="Expected returns" value={form.expectedReturns} onChange={(e) => set({ expectedReturns: e.target.value as PortfolioForm["expectedReturns"] })}>
                {MU_METHODS.map((item) => (
                  <option key={item}>{item}</option>
                ))}
              </select>
            </Field>
          </div>
          <h3 className="subhead">Constraints</h3>
          <div className="field-grid">
            <Field label="Min weight">
              <input aria-label="Min weight" value={form.lower} onChange={(e) => set({ lower: e.target.value })} />
            </Field>
            <Field label="Max weight">
              <input aria-label="Max weight" value={form.upper} onChange={(e) => set({ upper: e.target.value })} />
            </Field>
            <Field label="Risk-free rate (annual)">
              <input aria-label="Risk-free rate" value={form.riskFree} onChange={(e) => set({ riskFree: e.target.value })} />
            </Field>
            <Field label="Rebalance">
              <select aria-label="Rebalance" value={form.rebalance} onChange={(e) => set({ rebalance: e.target.value as PortfolioForm["rebalance"] })}>
                {REBALANCES.map((item) => (
                  <option key={item}>{item}</option>
                ))}
              </select>
            </Field>
            <Field label="Fees (bps)">
              <input aria-label="Fees" value={form.feesBps} onChange={(e) => set({ feesBps: e.target.value })} />
            </Field>
            <span />
            <Field label="Start">
              <input aria-label="Start" type="date" value={form.start} onChange={(e) => set({ start: e.target.value })} />
            </Field>
            <Field label="End">
              <input aria-label="End" type="date" value={form.end} onChange={(e) => set({ end: e.target.value })} />
            </Field>
          </div>
          {touched && problems.length > 0 && (
            <ul className="form-problems" data-testid="optimizer-problems">
              {problems.map((item) => (
                <li key={item}>{item}</li>
              ))}
            </ul>
          )}
          {optimize.isError && (
            <div data-testid="optimizer-error">
              <ErrorBox title="The optimizer refused" error={optimize.error} />
            </div>
          )}
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={optimize.isPending}>
              {optimize.isPending ? "Optimizing…" : "Optimize"}
            </button>
          </div>
        </form>
      </Panel>
      <div className="portfolio-main">
        {optimize.isPending && <Loading what="the optimal weights" />}
        {optimize.data ? (
          <Results result={optimize.data} covariance={covariance.data ?? null} frontier={frontierPoints} />
        ) : (
          !optimize.isPending && (
            <Panel title="Portfolio">
              <p className="muted">
                Choose symbols, a method and constraints, then optimize: weights, risk contributions, the efficient frontier, the covariance
                eigenvalue spectrum with its Marchenko-Pastur edge, and a backtest of the rebalanced portfolio appear here.
              </p>
            </Panel>
          )
        )}
        {covariance.isError && <ErrorBox title="Covariance unavailable" error={covariance.error} />}
        {frontier.isError && <ErrorBox title="Frontier unavailable" error={frontier.error} />}
      </div>
    </div>
  );
}
