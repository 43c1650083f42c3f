import { useState, type FormEvent, type ReactNode } from "react";

import { RequireGroup, TRADING_GROUPS } from "../auth/RequireGroup";
import type { MarketSymbol } from "../market/bars";
import { ErrorBox, Loading } from "../ui/components";
import {
  BACKTEST_INTERVALS,
  buildBacktestRequest,
  buildSweepRequest,
  buildWalkForwardRequest,
  sweepSize,
  withStrategy,
  type Direction,
  type Fill,
  type FormState,
  type SizingKind,
  type WalkForwardScheme,
} from "./form";
import type { ParamSpec, StrategyInfo } from "./strategies";
import { tradesOneSymbol } from "./strategies";
import type { BacktestRequest, SweepRequest, WalkForwardRequest } from "./types";
import type { Tab } from "./view";

const SIZE_LABELS: Record<SizingKind, string> = {
  fraction: "Fraction of equity",
  units: "Units per entry",
  vol_target: "Target volatility (annual)",
};

function Field({ label, hint, children, wide = false }: { label: string; hint?: string; children: ReactNode; wide?: boolean }) {
  return (
    <label className={wide ? "field field-wide" : "field"} title={hint}>
      <span className="field-label">{label}</span>
      {children}
    </label>
  );
}

function bounds(spec: ParamSpec): string {
  if (spec.choices.length > 0) {
    return spec.choices.join(" | ");
  }
  if (spec.kind === "bool") {
    return "true | false";
  }
  const low = spec.minimum ?? "−∞";
  const high = spec.maximum ?? "∞";
  return `${spec.kind} ${low}…${high}`;
}

function ParamInput({ spec, value, onChange }: { spec: ParamSpec; value: string; onChange: (value: string) => void }) {
  const label = `${spec.name} value`;
  if (spec.choices.length > 0 || spec.kind === "bool") {
    const options = spec.kind === "bool" ? ["false", "true"] : spec.choices;
    return (
      <select aria-label={label} value={value} onChange={(event) => onChange(event.target.value)}>
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    );
  }
  return (
    <input
      type="number"
      step={spec.kind === "int" ? 1 : "any"}
      min={spec.minimum ?? undefined}
      max={spec.maximum ?? undefined}
      aria-label={label}
      value={value}
      onChange={(event) => onChange(event.target.value)}
    />
  );
}

function ParamsEditor({ tab, form, strategy, onChange }: {
  tab: Tab;
  form: FormState;
  strategy: StrategyInfo;
  onChange: (form: FormState) => void;
}) {
  const sweep = tab !== "backtest";
  const size = sweep ? sweepSize(form, strategy) : 0;
  const listTitle =
    tab === "sweep"
      ? "Comma list, or start:stop:step (10:50:10 = 10, 20, 30, 40, 50)"
      : "The candidates each fold chooses from: a comma list, or start:stop:step";
  return (
    <div className="params-editor">
      <table className="table params-table" data-testid="params-table">
        <thead>
          <tr>
            <th>Parameter</th>
            <th>{sweep ? "Fixed" : "Value"}</th>
            {sweep && <th title={listTitle}>{tab === "sweep" ? "Sweep values" : "Candidates"}</th>}
          </tr>
        </thead>
        <tbody>
          {strategy.params.map((spec) => {
            const swept = sweep && (form.grid[spec.name] ?? "").trim() !== "";
            return (
              <tr key={spec.name}>
                <td title={spec.description}>
                  <span className="param-name">{spec.name}</span>
                  <span className="param-bounds">{bounds(spec)}</span>
                </td>
                <td className={swept ? "param-unused" : ""}>
                  <ParamInput
                    spec={spec}
                    value={form.params[spec.name] ?? ""}
                    onChange={(value) => onChange({ ...form, params: { ...form.params, [spec.name]: value } })}
                  />
                </td>
                {sweep && (
                  <td>
                    <input
                      type="text"
                      aria-label={`${spec.name} sweep values`}
                      placeholder={spec.choices.length ? spec.choices.join(", ") : "e.g. 5, 10, 20"}
                      value={form.grid[spec.name] ?? ""}
                      onChange={(event) => onChange({ ...form, grid: { ...form.grid, [spec.name]: event.target.value } })}
                    />
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {strategy.lessThan.length > 0 && (
        <p className="muted small">Rule: {strategy.lessThan.map(([a, b]) => `${a} < ${b}`).join(", ")}</p>
      )}
      {sweep && (
        <p className="small" data-testid="grid-size">
          <strong>{size.toLocaleString("en-US")}</strong> configuration{size === 1 ? "" : "s"}
          <span className="muted"> · at most 5,000</span>
        </p>
      )}
    </div>
  );
}

function FreeParams({ tab, form, onChange }: { tab: Tab; form: FormState; onChange: (form: FormState) => void }) {
  return (
    <>
      <Field label="Parameters" hint="name=value, separated by commas" wide>
        <input
          type="text"
          placeholder="fast=10, slow=50"
          value={form.freeParams}
          onChange={(event) => onChange({ ...form, freeParams: event.target.value })}
        />
      </Field>
      {tab !== "backtest" && (
        <Field label="Grid (one parameter a line)" wide>
          <textarea
            rows={3}
            placeholder={"fast: 5, 10, 20\nslow: 50, 100, 200"}
            value={form.freeGrid}
            onChange={(event) => onChange({ ...form, freeGrid: event.target.value })}
          />
        </Field>
      )}
    </>
  );
}

function SymbolPicker({ symbols, selected, single, onChange }: {
  symbols: MarketSymbol[];
  selected: string[];
  single: boolean;
  onChange: (symbols: string[]) => void;
}) {
  const [filter, setFilter] = useState("");
  const needle = filter.trim().toLowerCase();
  const shown = symbols.filter((item) => !needle || item.symbol.toLowerCase().includes(needle));
  const toggle = (symbol: string) => {
    if (single) {
      onChange([symbol]);
    } else {
      onChange(selected.includes(symbol) ? selected.filter((item) => item !== symbol) : [...selected, symbol]);
    }
  };
  return (
    <div className="symbol-picker">
      <div className="symbol-picker-head">
        <input type="search" placeholder="Filter symbols" aria-label="Filter symbols" value={filter} onChange={(e) => setFilter(e.target.value)} />
        <span className="muted small" data-testid="symbols-selected">
          {selected.length ? selected.join(", ") : "none"}
        </span>
      </div>
      <div className="symbol-chips" role="group" aria-label="Symbols">
        {shown.map((item) => (
          <label key={item.symbol} className={selected.includes(item.symbol) ? "chip selected" : "chip"} title={item.name}>
            <input
              type={single ? "radio" : "checkbox"}
              name="backtest-symbol"
              checked={selected.includes(item.symbol)}
              onChange={() => toggle(item.symbol)}
            />
            {item.symbol}
          </label>
        ))}
      </div>
    </div>
  );
}

/** The daily bars every selected symbol has (a backtest runs on the dates they share). */
function coverageText(symbols: MarketSymbol[], selected: string[]): string {
  const ranges = symbols
    .filter((item) => selected.includes(item.symbol))
    .map((item) => item.datasets.bars_1d)
    .filter((range) => range != null);
  if (ranges.length === 0 || ranges.length < selected.length) {
    return "";
  }
  const first = ranges.map((range) => range.first.slice(0, 10)).sort().at(-1);
  const last = ranges.map((range) => range.last.slice(0, 10)).sort()[0];
  return `${first} → ${last}`;
}

interface BacktestFormProps {
  tab: Tab;
  form: FormState;
  onChange: (form: FormState) => void;
  strategies: StrategyInfo[] | null;
  /** Why the catalogue is unavailable (the form then takes a strategy name and free parameters). */
  strategiesError: unknown;
  symbols: MarketSymbol[];
  busy: boolean;
  error: unknown;
  onRunBacktest: (request: BacktestRequest) => void;
  onStartSweep: (request: SweepRequest) => void;
  onRunWalkForward: (request: WalkForwardRequest) => void;
}

const SUBMIT_LABELS: Record<Tab, [idle: string, busy: string]> = {
  backtest: ["Run backtest", "Running…"],
  sweep: ["Start sweep", "Starting…"],
  walkforward: ["Run walk-forward", "Running…"],
};

const FAILURE_TITLES: Record<Tab, string> = {
  backtest: "The backtest failed",
  sweep: "The sweep was not started",
  walkforward: "The walk-forward analysis failed",
};

function buildFor(tab: Tab, form: FormState, strategy: StrategyInfo | null) {
  if (tab === "sweep") {
    return buildSweepRequest(form, strategy);
  }
  return tab === "walkforward" ? buildWalkForwardRequest(form, strategy) : buildBacktestRequest(form, strategy);
}

export function BacktestForm(props: BacktestFormProps) {
  const { tab, form, onChange, strategies, symbols, busy } = props;
  const strategy = strategies?.find((item) => item.name === form.strategy) ?? null;
  const built = buildFor(tab, form, strategy);
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => onChange({ ...form, [key]: value });
  const text = (key: keyof FormState) => ({
    value: form[key] as string,
    onChange: (event: { target: { value: string } }) => set(key, event.target.value),
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy || !built.request) {
      return;
    }
    if (tab === "sweep") {
      props.onStartSweep(built.request as SweepRequest);
    } else if (tab === "walkforward") {
      props.onRunWalkForward(built.request as WalkForwardRequest);
    } else {
      props.onRunBacktest(built.request as BacktestRequest);
    }
  }

  return (
    <form className="backtest-form" onSubmit={submit} aria-label={`${SUBMIT_LABELS[tab][0]} settings`}>
      <h3 className="subhead">Strategy</h3>
      {strategies ? (
        <div className="field field-wide">
          <select
            aria-label="Strategy"
            value={form.strategy}
            onChange={(event) => {
              const name = event.target.value;
              onChange(withStrategy(form, strategies.find((item) => item.name === name) ?? null, name));
            }}
          >
            {strategies.map((item) => (
              <option key={item.name} value={item.name}>
                {item.name}
              </option>
            ))}
          </select>
        </div>
      ) : props.strategiesError === null ? (
        <Loading what="strategies" />
      ) : (
        <>
          <Field label="Strategy name" wide>
            <input type="text" aria-label="Strategy" placeholder="ma_crossover" {...text("strategy")} />
          </Field>
          <ErrorBox title="Strategy list unavailable: type the name and parameters" error={props.strategiesError} />
        </>
      )}
      {strategy && <p className="muted small strategy-description">{strategy.description}</p>}
      {strategy && <ParamsEditor tab={tab} form={form} strategy={strategy} onChange={onChange} />}
      {!strategy && props.strategiesError !== null && <FreeParams tab={tab} form={form} onChange={onChange} />}

      <h3 className="subhead">Data</h3>
      <SymbolPicker
        symbols={symbols}
        selected={form.symbols}
        single={tradesOneSymbol(strategy)}
        onChange={(chosen) => set("symbols", chosen)}
      />
      <div className="field-grid data-grid">
        <Field label="Start" hint="Empty: from the first bar">
          <input type="date" aria-label="Start" {...text("start")} />
        </Field>
        <Field label="End" hint="Empty: to the last bar">
          <input type="date" aria-label="End" {...text("end")} />
        </Field>
        <Field label="Interval">
          <select aria-label="Interval" {...text("interval")}>
            {BACKTEST_INTERVALS.map((item) => (
              <option key={item.value} value={item.value}>
                {item.label}
              </option>
            ))}
          </select>
        </Field>
        <span className="muted small coverage" title="Daily bars every selected symbol has" data-testid="data-coverage">
          {coverageText(symbols, form.symbols)}
        </span>
      </div>

      <h3 className="subhead">Costs and execution</h3>
      <div className="field-grid">
        <Field label="Initial cash">
          <input type="number" min={0} step="any" aria-label="Initial cash" {...text("initialCash")} />
        </Field>
        <Field label="Fees (bps)" hint="Basis points of traded notional">
          <input type="number" min={0} max={1000} step="any" aria-label="Fees (bps)" {...text("feesBps")} />
        </Field>
        <Field label="Fixed fee" hint="Cash per order">
          <input type="number" min={0} step="any" aria-label="Fixed fee" {...text("fixedFee")} />
        </Field>
        <Field label="Slippage (bps)">
          <input type="number" min={0} max={1000} step="any" aria-label="Slippage (bps)" {...text("slippageBps")} />
        </Field>
        <Field label="Fill" hint="Orders fill at the signal bar's close or the next bar's open">
          <select aria-label="Fill" value={form.fill} onChange={(e) => set("fill", e.target.value as Fill)}>
            <option value="close">close</option>
            <option value="next_open">next open</option>
          </select>
        </Field>
        <Field label="Direction">
          <select aria-label="Direction" value={form.direction} onChange={(e) => set("direction", e.target.value as Direction)}>
            <option value="long_only">long only</option>
            <option value="long_short">long / short</option>
            <option value="short_only">short only</option>
          </select>
        </Field>
      </div>

      <h3 className="subhead">Sizing and stops</h3>
      <div className="field-grid">
        <Field label="Sizing">
          <select aria-label="Sizing" value={form.sizingKind} onChange={(e) => set("sizingKind", e.target.value as SizingKind)}>
            <option value="fraction">fraction of equity</option>
            <option value="units">fixed units</option>
            <option value="vol_target">volatility target</option>
          </select>
        </Field>
        <Field label={SIZE_LABELS[form.sizingKind]}>
          <input type="number" min={0} step="any" aria-label="Size" {...text("sizingValue")} />
        </Field>
        {form.sizingKind === "vol_target" && (
          <>
            <Field label="Vol window (bars)">
              <input type="number" min={2} max={1000} step={1} aria-label="Volatility window" {...text("volWindow")} />
            </Field>
            <Field label="Max leverage">
              <input type="number" min={0} max={10} step="any" aria-label="Max leverage" {...text("maxLeverage")} />
            </Field>
          </>
        )}
        <Field label="Stop loss (%)" hint="Empty: none">
          <input type="number" min={0} max={100} step="any" aria-label="Stop loss (%)" placeholder="none" {...text("stopLossPct")} />
        </Field>
        <Field label="Take profit (%)" hint="Empty: none">
          <input type="number" min={0} step="any" aria-label="Take profit (%)" placeholder="none" {...text("takeProfitPct")} />
        </Field>
      </div>

      {tab === "sweep" && (
        <>
          <h3 className="subhead">Sweep</h3>
          <div className="field-grid">
            <Field label="Chunk size" hint="Configurations per Lambda task; empty: about ten chunks">
              <input type="number" min={1} max={500} step={1} aria-label="Chunk size" placeholder="auto" {...text("chunkSize")} />
            </Field>
            <Field label="PBO blocks" hint="CSCV blocks S (even): more blocks, more train/test splits">
              <input type="number" min={2} max={32} step={2} aria-label="PBO blocks" {...text("pboBlocks")} />
            </Field>
          </div>
        </>
      )}

      {tab === "walkforward" && (
        <>
          <h3 className="subhead">Folds</h3>
          <div className="field-grid">
            <Field label="Scheme" hint="Rolling: fixed-length training windows; anchored: every window starts at the first bar">
              <select aria-label="Scheme" value={form.scheme} onChange={(e) => set("scheme", e.target.value as WalkForwardScheme)}>
                <option value="rolling">rolling</option>
                <option value="anchored">anchored</option>
              </select>
            </Field>
            <Field label="Training bars" hint="The (first) training window">
              <input type="number" min={20} step={1} aria-label="Training bars" {...text("trainBars")} />
            </Field>
            <Field label="Test bars" hint="Each out-of-sample window">
              <input type="number" min={5} step={1} aria-label="Test bars" {...text("testBars")} />
            </Field>
            <Field label="Gap bars" hint="Bars skipped between training and test">
              <input type="number" min={0} step={1} aria-label="Gap bars" {...text("gapBars")} />
            </Field>
          </div>
        </>
      )}

      <RequireGroup
        groups={TRADING_GROUPS}
        fallback={
          <p className="muted small" data-testid="read-only-note">
            Read-only: your role can look at results but not start backtests or sweeps.
          </p>
        }
      >
        {built.problems.length > 0 && (
          <ul className="form-problems small" data-testid="form-problems">
            {built.problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        )}
        {props.error !== null && props.error !== undefined && (
          <div data-testid="run-error">
            <ErrorBox title={FAILURE_TITLES[tab]} error={props.error} />
          </div>
        )}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy || built.request === null}>
            {SUBMIT_LABELS[tab][busy ? 1 : 0]}
          </button>
        </div>
      </RequireGroup>
    </form>
  );
}
