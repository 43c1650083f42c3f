/** The backtest / sweep form as typed text, and the API requests it becomes (or why it cannot yet). */
import { isIsoDate } from "../market/bars";
import {
  countRuleBreaks,
  gridSize,
  looseValue,
  MAX_SWEEP_CONFIGS,
  paramText,
  parseAssignments,
  parseParamValue,
  parseValueList,
} from "./params";
import { symbolCountProblem, type StrategyInfo } from "./strategies";
import type { BacktestRequest, ParamValue, SweepRequest, WalkForwardRequest } from "./types";

export const BACKTEST_INTERVALS = [
  { value: "1d", label: "Daily" },
  { value: "1w", label: "Weekly" },
  { value: "1mo", label: "Monthly" },
] as const;

export type Fill = BacktestRequest["fill"] & string;
export type Direction = BacktestRequest["direction"] & string;
export type SizingKind = NonNullable<BacktestRequest["sizing"]>["kind"] & string;

export interface FormState {
  strategy: string;
  symbols: string[];
  interval: string;
  /** YYYY-MM-DD or empty (all the data). */
  start: string;
  end: string;
  initialCash: string;
  feesBps: string;
  fixedFee: string;
  slippageBps: string;
  fill: Fill;
  direction: Direction;
  sizingKind: SizingKind;
  sizingValue: string;
  volWindow: string;
  maxLeverage: string;
  /** Percent of the entry price; empty: none. */
  stopLossPct: string;
  takeProfitPct: string;
  /** Per parameter: the backtest's value, or the sweep's fixed value when its grid list is empty. */
  params: Record<string, string>;
  /** "name=value, ..." for a strategy the catalogue does not describe. */
  freeParams: string;
  /** Per parameter: the sweep's comma list / ranges (empty: not swept). */
  grid: Record<string, string>;
  /** "name: v1, v2" lines for a strategy the catalogue does not describe. */
  freeGrid: string;
  /** Empty: about ten chunks (the progress bar moves in chunks). */
  chunkSize: string;
  pboBlocks: string;
  /** Walk-forward: rolling or anchored (growing) training windows, their lengths in bars, the gap. */
  scheme: WalkForwardScheme;
  trainBars: string;
  testBars: string;
  gapBars: string;
}

export type WalkForwardScheme = WalkForwardRequest["scheme"] & string;

export function defaultForm(): FormState {
  return {
    strategy: "",
    symbols: [],
    interval: "1d",
    start: "",
    end: "",
    initialCash: "100000",
    feesBps: "0",
    fixedFee: "0",
    slippageBps: "0",
    fill: "close",
    direction: "long_only",
    sizingKind: "fraction",
    sizingValue: "1",
    volWindow: "20",
    maxLeverage: "1",
    stopLossPct: "",
    takeProfitPct: "",
    params: {},
    freeParams: "",
    grid: {},
    freeGrid: "",
    chunkSize: "",
    pboBlocks: "16",
    scheme: "rolling",
    trainBars: "756",
    testBars: "252",
    gapBars: "0",
  };
}

/** The form switched to another strategy: its parameters start at their defaults, the grid is cleared. */
export function withStrategy(form: FormState, strategy: StrategyInfo | null, name: string): FormState {
  const params = Object.fromEntries((strategy?.params ?? []).map((spec) => [spec.name, paramText(spec.default)]));
  const symbols = strategy?.output === "entries_exits" ? form.symbols.slice(0, 1) : form.symbols;
  return { ...form, strategy: name, params, grid: {}, symbols };
}

/** A parameter set (e.g. a sweep's winner) put into the backtest form. */
export function withParams(form: FormState, params: Record<string, ParamValue>): FormState {
  const texts = Object.fromEntries(Object.entries(params).map(([name, value]) => [name, paramText(value)]));
  const free = Object.entries(params).map(([name, value]) => `${name}=${paramText(value)}`).join(", ");
  return { ...form, params: { ...form.params, ...texts }, freeParams: free };
}

export type Built<T> = { request: T; problems: [] } | { request: null; problems: string[] };

type MarketSpec = Omit<BacktestRequest, "params">;

class Problems {
  readonly list: string[] = [];

  number(text: string, label: string, check: (value: number) => boolean, rule: string): number {
    const value = text.trim() === "" ? Number.NaN : Number(text);
    if (!Number.isFinite(value) || !check(value)) {
      this.list.push(`${label} ${rule}`);
    }
    return value;
  }

  optional(text: string, label: string, check: (value: number) => boolean, rule: string): number | null {
    return text.trim() === "" ? null : this.number(text, label, check, rule);
  }

  add(problem: string | null): void {
    if (problem) {
      this.list.push(problem);
    }
  }
}

function marketSpec(form: FormState, strategy: StrategyInfo | null, problems: Problems): MarketSpec {
  if (!form.strategy.trim()) {
    problems.add("Choose a strategy");
  }
  problems.add(symbolCountProblem(strategy, form.symbols.length));
  for (const [label, date] of [["Start", form.start], ["End", form.end]] as const) {
    if (date && !isIsoDate(date)) {
      problems.add(`${label} date must be YYYY-MM-DD`);
    }
  }
  if (form.start && form.end && form.start > form.end) {
    problems.add("The start date is after the end date");
  }
  const spec: MarketSpec = {
    strategy: form.strategy.trim(),
    symbols: [...form.symbols],
    interval: form.interval,
    initial_cash: problems.number(form.initialCash, "Initial cash", (v) => v > 0, "must be above 0"),
    fees_bps: problems.number(form.feesBps, "Fees", (v) => v >= 0 && v <= 1000, "must be 0–1000 bps"),
    fixed_fee: problems.number(form.fixedFee, "Fixed fee", (v) => v >= 0, "must be 0 or more"),
    slippage_bps: problems.number(form.slippageBps, "Slippage", (v) => v >= 0 && v <= 1000, "must be 0–1000 bps"),
    fill: form.fill,
    direction: form.direction,
    sizing: sizing(form, problems),
  };
  if (form.start) {
    spec.start = form.start;
  }
  if (form.end) {
    spec.end = form.end;
  }
  const stop = problems.optional(form.stopLossPct, "Stop loss", (v) => v > 0 && v < 100, "must be between 0 and 100 %");
  const take = problems.optional(form.takeProfitPct, "Take profit", (v) => v > 0, "must be above 0 %");
  if (stop !== null) {
    spec.stop_loss = stop / 100;
  }
  if (take !== null) {
    spec.take_profit = take / 100;
  }
  return spec;
}

function sizing(form: FormState, problems: Problems): NonNullable<BacktestRequest["sizing"]> {
  const value = problems.number(form.sizingValue, "Size", (v) => v > 0, "must be above 0");
  if (form.sizingKind !== "vol_target") {
    // The window and leverage only matter to a volatility target: the API's defaults otherwise.
    return { kind: form.sizingKind, value, vol_window: 20, max_leverage: 1 };
  }
  const isWindow = (v: number) => Number.isInteger(v) && v >= 2 && v <= 1000;
  return {
    kind: "vol_target",
    value,
    vol_window: problems.number(form.volWindow, "Volatility window", isWindow, "must be a whole number 2–1000"),
    max_leverage: problems.number(form.maxLeverage, "Max leverage", (v) => v > 0 && v <= 10, "must be in (0, 10]"),
  };
}

/** The strategy's parameters from the form: typed by the catalogue, or read loosely from the free text. */
function strategyParams(form: FormState, strategy: StrategyInfo | null, problems: Problems): Record<string, ParamValue> {
  if (!strategy) {
    const parsed = parseAssignments(form.freeParams);
    problems.add(parsed.ok ? null : `Parameters: ${parsed.error}`);
    return parsed.ok ? parsed.value : {};
  }
  const params: Record<string, ParamValue> = {};
  for (const spec of strategy.params) {
    const parsed = parseParamValue(form.params[spec.name] ?? paramText(spec.default), spec);
    if (parsed.ok) {
      params[spec.name] = parsed.value;
    } else {
      problems.add(parsed.error);
    }
  }
  return params;
}

function ruleProblems(strategy: StrategyInfo | null, params: Record<string, ParamValue>, problems: Problems): void {
  for (const [smaller, larger] of strategy?.lessThan ?? []) {
    const a = params[smaller];
    const b = params[larger];
    if (a !== undefined && b !== undefined && !(Number(a) < Number(b))) {
      problems.add(`${smaller} (${a}) must be < ${larger} (${b})`);
    }
  }
}

function built<T>(request: T, problems: Problems): Built<T> {
  return problems.list.length === 0 ? { request, problems: [] } : { request: null, problems: problems.list };
}

/** POST /v1/backtests body. */
export function buildBacktestRequest(form: FormState, strategy: StrategyInfo | null): Built<BacktestRequest> {
  const problems = new Problems();
  const spec = marketSpec(form, strategy, problems);
  const params = strategyParams(form, strategy, problems);
  ruleProblems(strategy, params, problems);
  return built({ ...spec, params }, problems);
}

function freeGrid(text: string, problems: Problems): Record<string, ParamValue[]> {
  const grid: Record<string, ParamValue[]> = {};
  for (const line of text.split("\n").map((item) => item.trim()).filter(Boolean)) {
    const match = /^([A-Za-z_]\w*)\s*[:=]\s*(.+)$/.exec(line);
    if (!match?.[1] || !match[2]) {
      problems.add(`Grid: “${line}” is not name: v1, v2, …`);
      continue;
    }
    grid[match[1]] = match[2].split(",").map((item) => looseValue(item)).filter((value) => value !== "");
  }
  return grid;
}

/** The swept lists and the fixed values of the other parameters. */
function sweepGrid(
  form: FormState,
  strategy: StrategyInfo | null,
  problems: Problems,
): { grid: Record<string, ParamValue[]>; fixed: Record<string, ParamValue> } {
  if (!strategy) {
    return { grid: freeGrid(form.freeGrid, problems), fixed: strategyParams(form, null, problems) };
  }
  const grid: Record<string, ParamValue[]> = {};
  const fixed: Record<string, ParamValue> = {};
  for (const spec of strategy.params) {
    const listText = (form.grid[spec.name] ?? "").trim();
    if (listText) {
      const parsed = parseValueList(listText, spec);
      if (parsed.ok) {
        grid[spec.name] = parsed.value;
      } else {
        problems.add(parsed.error);
      }
      continue;
    }
    const parsed = parseParamValue(form.params[spec.name] ?? paramText(spec.default), spec);
    if (parsed.ok) {
      fixed[spec.name] = parsed.value;
    } else {
      problems.add(parsed.error);
    }
  }
  return { grid, fixed };
}

/** How many configurations the form's grid has (0 while a list does not parse). */
export function sweepSize(form: FormState, strategy: StrategyInfo | null): number {
  const problems = new Problems();
  const { grid } = sweepGrid(form, strategy, problems);
  return problems.list.length === 0 ? gridSize(grid) : 0;
}

/** About ten chunks, so the progress bar moves; never more than the API's 500 configurations a chunk. */
export function autoChunkSize(configs: number): number {
  return Math.min(500, Math.max(1, Math.ceil(configs / 10)));
}

/** POST /v1/backtests/sweeps body (a grid search). */
export function buildSweepRequest(form: FormState, strategy: StrategyInfo | null): Built<SweepRequest> {
  const problems = new Problems();
  const spec = marketSpec(form, strategy, problems);
  const { grid, fixed } = sweepGrid(form, strategy, problems);
  const size = gridSize(grid);
  if (size === 0) {
    problems.add("Give at least one parameter a list of values to sweep");
  } else if (size > MAX_SWEEP_CONFIGS) {
    problems.add(`The grid has ${size.toLocaleString("en-US")} configurations; the API runs at most ${MAX_SWEEP_CONFIGS.toLocaleString("en-US")}`);
  } else if (size < 2) {
    problems.add("A sweep needs at least two configurations (PBO compares them)");
  }
  const breaks = countRuleBreaks(grid, fixed, strategy?.lessThan ?? []);
  if (breaks > 0) {
    const rules = (strategy?.lessThan ?? []).map(([a, b]) => `${a} < ${b}`).join(", ");
    problems.add(`${breaks} of ${size} configurations break ${rules}: the API refuses such a sweep`);
  }
  const isChunk = (v: number) => Number.isInteger(v) && v >= 1 && v <= 500;
  const chunk = problems.optional(form.chunkSize, "Chunk size", isChunk, "must be a whole number 1–500");
  const isBlocks = (v: number) => Number.isInteger(v) && v >= 2 && v <= 32 && v % 2 === 0;
  const blocks = problems.number(form.pboBlocks, "PBO blocks", isBlocks, "must be an even number 2–32");
  return built(
    { ...spec, grid, fixed, chunk_size: chunk ?? autoChunkSize(size), pbo_blocks: blocks },
    problems,
  );
}

/**
 * POST /v1/backtests/walkforward body: every fold picks the grid's best configuration (Sharpe) on its
 * training bars and trades it on the following test bars.
 */
export function buildWalkForwardRequest(form: FormState, strategy: StrategyInfo | null): Built<WalkForwardRequest> {
  const problems = new Problems();
  const spec = marketSpec(form, strategy, problems);
  const { grid, fixed } = sweepGrid(form, strategy, problems);
  const size = gridSize(grid);
  if (size === 0) {
    problems.add("Give at least one parameter a list of values to choose from");
  } else if (size > MAX_SWEEP_CONFIGS) {
    problems.add(`The grid has ${size.toLocaleString("en-US")} configurations; the API takes at most ${MAX_SWEEP_CONFIGS.toLocaleString("en-US")}`);
  }
  const breaks = countRuleBreaks(grid, fixed, strategy?.lessThan ?? []);
  if (breaks > 0) {
    problems.add(`${breaks} of ${size} configurations break ${(strategy?.lessThan ?? []).map(([a, b]) => `${a} < ${b}`).join(", ")}`);
  }
  const whole = (low: number, high: number) => (v: number) => Number.isInteger(v) && v >= low && v <= high;
  const train = problems.number(form.trainBars, "Training bars", whole(20, 100_000), "must be a whole number 20–100,000");
  const test = problems.number(form.testBars, "Test bars", whole(5, 100_000), "must be a whole number 5–100,000");
  const gap = problems.number(form.gapBars, "Gap", whole(0, 10_000), "must be a whole number 0–10,000");
  return built({ ...spec, grid, fixed, scheme: form.scheme, train_bars: train, test_bars: test, gap }, problems);
}

/** Text of a number for an input: percent values rounded off their float noise (0.07 * 100 = 7.000000000000001). */
function numberText(value: number | null | undefined, scale = 1): string {
  return value === null || value === undefined ? "" : String(Number((value * scale).toPrecision(12)));
}

/** The form that produced a request (to edit and rerun it, or to backtest a sweep's configuration). */
export function formFromRequest(
  request: Omit<BacktestRequest, "params"> & { params?: Record<string, ParamValue>; fixed?: Record<string, ParamValue> },
  base: FormState = defaultForm(),
): FormState {
  const params = { ...(request.fixed ?? {}), ...(request.params ?? {}) };
  const sizing: Partial<NonNullable<BacktestRequest["sizing"]>> = request.sizing ?? {};
  return {
    ...base,
    strategy: request.strategy,
    symbols: [...request.symbols],
    interval: request.interval ?? "1d",
    start: request.start ?? "",
    end: request.end ?? "",
    initialCash: numberText(request.initial_cash ?? 100_000),
    feesBps: numberText(request.fees_bps ?? 0),
    fixedFee: numberText(request.fixed_fee ?? 0),
    slippageBps: numberText(request.slippage_bps ?? 0),
    fill: request.fill ?? "close",
    direction: request.direction ?? "long_only",
    sizingKind: sizing.kind ?? "fraction",
    sizingValue: numberText(sizing.value ?? 1),
    volWindow: numberText(sizing.vol_window ?? 20),
    maxLeverage: numberText(sizing.max_leverage ?? 1),
    stopLossPct: numberText(request.stop_loss, 100),
    takeProfitPct: numberText(request.take_profit, 100),
    params: Object.fromEntries(Object.entries(params).map(([name, value]) => [name, paramText(value)])),
    freeParams: Object.entries(params).map(([name, value]) => `${name}=${paramText(value)}`).join(", "),
    grid: {},
    freeGrid: "",
  };
}
