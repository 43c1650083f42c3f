import { describe, expect, it } from "vitest";

import type { WalkForwardFold } from "./types";
import { drawdownSeries, foldStats } from "./walkforward";

function fold(index: number, fast: number, inSample: number | null, outOfSample: number | null): WalkForwardFold {
  return {
    index,
    train: ["2000-01-03", "2002-12-31"],
    test: ["2003-01-02", "2003-12-31"],
    chosen: { ma: "sma", fast, slow: 100 },
    in_sample_sharpe: inSample,
    out_of_sample_sharpe: outOfSample,
  };
}

describe("walk-forward helpers", () => {
  it("measures the stitched curve's drawdown from its running peak", () => {
    const drawdown = drawdownSeries([100, 110, 99, 121, 110]);
    expect(drawdown.map((value) => Number(value.toFixed(6)))).toEqual([0, 0, -0.1, 0, -0.090909]);
    expect(drawdownSeries([])).toEqual([]);
  });

  it("summarizes the folds: mean Sharpe in and out of sample, positive share, configuration switches", () => {
    // Given three folds, the second and third choosing other fast windows, one without an OOS Sharpe
    const stats = foldStats([fold(0, 10, 1.2, -0.4), fold(1, 20, 0.8, 0.6), fold(2, 10, 1.0, null)]);
    // Then
    expect(stats.folds).toBe(3);
    expect(stats.meanInSample).toBeCloseTo(1.0, 12);
    expect(stats.meanOutOfSample).toBeCloseTo(0.1, 12);
    expect(stats.positiveOutOfSample).toBe(0.5);
    expect(stats.switches).toBe(2);
  });

  it("does not count a reordered but equal configuration as a switch", () => {
    const first = fold(0, 10, 1, 1);
    const second = { ...fold(1, 10, 1, 1), chosen: { slow: 100, fast: 10, ma: "sma" } };
    expect(foldStats([first, second]).switches).toBe(0);
    expect(foldStats([]).meanOutOfSample).toBeNull();
  });
});
