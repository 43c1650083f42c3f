import { describe, expect, it } from "vitest";

import {
  autoChunkSize,
  buildBacktestRequest,
  buildSweepRequest,
  buildWalkForwardRequest,
  defaultForm,
  formFromRequest,
  sweepSize,
  withParams,
  withStrategy,
  type FormState,
} from "./form";
import { strategy } from "./testing";

const MA = strategy("ma_crossover");

function maForm(patch: Partial<FormState> = {}): FormState {
  return { ...withStrategy({ ...defaultForm(), symbols: ["SP500"] }, MA, MA.name), ...patch };
}

describe("backtest form -> POST /v1/backtests body", () => {
  it("sends the defaults as the API's types, without the optional fields left empty", () => {
    // Given the form as it opens for ma_crossover on SP500
    const built = buildBacktestRequest(maForm(), MA);
    // Then the request is complete and typed
    expect(built.problems).toEqual([]);
    expect(built.request).toEqual({
      strategy: "ma_crossover",
      symbols: ["SP500"],
      interval: "1d",
      initial_cash: 100000,
      fees_bps: 0,
      fixed_fee: 0,
      slippage_bps: 0,
      fill: "close",
      direction: "long_only",
      sizing: { kind: "fraction", value: 1, vol_window: 20, max_leverage: 1 },
      params: { fast: 10, slow: 50, ma: "sma" },
    });
  });

  it("turns percent stops into fractions and passes dates, costs and a volatility target", () => {
    const form = maForm({
      start: "2005-01-03",
      end: "2010-12-31",
      feesBps: "2.5",
      slippageBps: "1",
      fill: "next_open",
      direction: "long_short",
      sizingKind: "vol_target",
      sizingValue: "0.15",
      volWindow: "60",
      maxLeverage: "2",
      stopLossPct: "5",
      takeProfitPct: "12.5",
      params: { fast: "20", slow: "200", ma: "ema" },
    });
    const { request } = buildBacktestRequest(form, MA);
    expect(request).toMatchObject({
      start: "2005-01-03",
      end: "2010-12-31",
      fees_bps: 2.5,
      slippage_bps: 1,
      fill: "next_open",
      direction: "long_short",
      sizing: { kind: "vol_target", value: 0.15, vol_window: 60, max_leverage: 2 },
      stop_loss: 0.05,
      take_profit: 0.125,
      params: { fast: 20, slow: 200, ma: "ema" },
    });
  });

  it("lists every problem instead of a request", () => {
    const form = maForm({
      symbols: ["SP500", "NASDAQ"],
      start: "2010-01-01",
      end: "2009-01-01",
      initialCash: "0",
      stopLossPct: "150",
      params: { fast: "60", slow: "50", ma: "sma" },
    });
    const built = buildBacktestRequest(form, MA);
    expect(built.request).toBeNull();
    expect(built.problems).toEqual([
      "ma_crossover trades one symbol: pick one",
      "The start date is after the end date",
      "Initial cash must be above 0",
      "Stop loss must be between 0 and 100 %",
      "fast (60) must be < slow (50)",
    ]);
  });

  it("reads free name=value parameters for a strategy the catalogue does not know", () => {
    const form = { ...defaultForm(), strategy: "my_strategy", symbols: ["SP500"], freeParams: "window=5, mode=fast" };
    expect(buildBacktestRequest(form, null).request?.params).toEqual({ window: 5, mode: "fast" });
  });
});

describe("sweep form -> POST /v1/backtests/sweeps body", () => {
  it("sweeps the parameters with lists and fixes the others", () => {
    // Given a 3 x 3 grid over fast and slow, ma left at its value
    const form = maForm({ grid: { fast: "5, 10, 20", slow: "50:150:50", ma: " " }, chunkSize: "3" });
    // When built
    const { request, problems } = buildSweepRequest(form, MA);
    // Then
    expect(problems).toEqual([]);
    expect(request).toMatchObject({
      strategy: "ma_crossover",
      grid: { fast: [5, 10, 20], slow: [50, 100, 150] },
      fixed: { ma: "sma" },
      chunk_size: 3,
      pbo_blocks: 16,
    });
    expect(request).not.toHaveProperty("params");
    expect(sweepSize(form, MA)).toBe(9);
  });

  it("picks about ten chunks when the chunk size is left empty", () => {
    expect(autoChunkSize(9)).toBe(1);
    expect(autoChunkSize(500)).toBe(50);
    expect(autoChunkSize(5000)).toBe(500);
    const { request } = buildSweepRequest(maForm({ grid: { fast: "1:40" } }), MA);
    expect(request?.chunk_size).toBe(4);
  });

  it("refuses an empty grid, odd PBO blocks and grids breaking fast < slow", () => {
    expect(buildSweepRequest(maForm(), MA).problems).toEqual(["Give at least one parameter a list of values to sweep"]);
    expect(buildSweepRequest(maForm({ grid: { fast: "5, 10" }, pboBlocks: "15" }), MA).problems).toEqual([
      "PBO blocks must be an even number 2–32",
    ]);
    expect(buildSweepRequest(maForm({ grid: { fast: "10, 60", slow: "50, 100" } }), MA).problems).toEqual([
      "1 of 4 configurations break fast < slow: the API refuses such a sweep",
    ]);
    expect(buildSweepRequest(maForm({ grid: { fast: "1:100", slow: "101:200" } }), MA).problems[0]).toMatch(
      /10,000 configurations; the API runs at most 5,000/,
    );
    expect(sweepSize(maForm({ grid: { fast: "x" } }), MA)).toBe(0);
  });
});

describe("walk-forward form -> POST /v1/backtests/walkforward body", () => {
  it("sends the candidates, the fixed values and the fold lengths", () => {
    const form = maForm({ grid: { fast: "10, 20", slow: "100, 200" }, scheme: "anchored", trainBars: "504", testBars: "126", gapBars: "5" });
    const { request, problems } = buildWalkForwardRequest(form, MA);
    expect(problems).toEqual([]);
    expect(request).toMatchObject({
      grid: { fast: [10, 20], slow: [100, 200] },
      fixed: { ma: "sma" },
      scheme: "anchored",
      train_bars: 504,
      test_bars: 126,
      gap: 5,
    });
    expect(request).not.toHaveProperty("chunk_size");
  });

  it("refuses windows the API would refuse", () => {
    const form = maForm({ grid: { fast: "10" }, trainBars: "10", testBars: "2.5", gapBars: "-1" });
    expect(buildWalkForwardRequest(form, MA).problems).toEqual([
      "Training bars must be a whole number 20–100,000",
      "Test bars must be a whole number 5–100,000",
      "Gap must be a whole number 0–10,000",
    ]);
  });
});

describe("form <-> request", () => {
  it("rebuilds the form of a request, so rebuilding gives the same request", () => {
    const original = buildBacktestRequest(
      maForm({ stopLossPct: "7", takeProfitPct: "20", feesBps: "1.5", start: "2001-02-03", params: { fast: "12", slow: "80", ma: "ema" } }),
      MA,
    ).request!;
    const again = buildBacktestRequest(formFromRequest(original), MA).request;
    expect(again).toEqual(original);
  });

  it("puts a sweep's configuration and settings into the backtest form", () => {
    const sweep = buildSweepRequest(maForm({ grid: { fast: "5, 10" }, slippageBps: "3" }), MA).request!;
    const form = withParams(formFromRequest(sweep), { fast: 10, slow: 50, ma: "sma" });
    expect(buildBacktestRequest(form, MA).request).toMatchObject({ slippage_bps: 3, params: { fast: 10, slow: 50, ma: "sma" } });
  });

  it("resets parameters to the new strategy's defaults and keeps one symbol for single-symbol strategies", () => {
    const momentum = strategy("ts_momentum");
    const panel = withStrategy({ ...defaultForm(), symbols: ["AAPL", "MSFT"] }, momentum, momentum.name);
    expect(panel.params).toEqual({ lookback: "252", rebalance: "monthly", long_short: "false" });
    expect(panel.symbols).toEqual(["AAPL", "MSFT"]);
    expect(withStrategy(panel, MA, MA.name).symbols).toEqual(["AAPL"]);
  });
});
