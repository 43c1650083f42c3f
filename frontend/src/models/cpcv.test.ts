import { describe, expect, it } from "vitest";

import { aucChartGeometry, readCpcv, type CpcvSummary } from "./cpcv";

// metrics.cpcv as services/ml_training.cpcv_evaluation stores it
const STORED = {
  n_groups: 6,
  n_test_groups: 2,
  n_splits: 15,
  embargo_pct: 0.01,
  rows: 1000,
  n_paths: 5,
  path_auc: [0.55, 0.48, 0.61, 0.52, 0.57],
  auc_mean: 0.546,
  auc_std: 0.0441,
  auc_min: 0.48,
  auc_max: 0.61,
};

describe("metrics.cpcv", () => {
  it("reads the stored summary, and null when the run had CPCV off", () => {
    // Given a model's metrics with and without CPCV
    const summary = readCpcv({ validation: {}, cpcv: STORED });
    // Then the numbers come through, named for the page
    expect(summary).toMatchObject({ groups: 6, testGroups: 2, splits: 15, paths: 5, rows: 1000, mean: 0.546, std: 0.0441 });
    expect(summary?.pathAuc).toEqual(STORED.path_auc);
    expect(readCpcv({ validation: {}, cpcv: null })).toBeNull();
    expect(readCpcv({})).toBeNull();
    expect(readCpcv(undefined)).toBeNull();
  });

  it("keeps the single-class case (no AUC) apart from bad values", () => {
    const single = readCpcv({ cpcv: { ...STORED, path_auc: [], auc_mean: null, auc_std: null } });
    expect(single).toMatchObject({ pathAuc: [], mean: null, std: null, paths: 5 });
    const odd = readCpcv({ cpcv: { path_auc: [0.5, "x", null, 0.6], n_paths: "5" } });
    expect(odd).toMatchObject({ pathAuc: [0.5, 0.6], paths: null });
  });
});

describe("AUC per path chart", () => {
  const summary = readCpcv({ cpcv: STORED }) as CpcvSummary;

  it("draws each path's bar from the chance line, up when better than chance and down when worse", () => {
    // When laid out
    const g = aucChartGeometry(summary, 560, 200);
    // Then the axis includes 0.5 and every value, on round ticks
    expect(g.domain[0]).toBeLessThanOrEqual(0.48);
    expect(g.domain[1]).toBeGreaterThanOrEqual(0.61);
    expect(g.ticks).toContain(0.5);
    expect(g.ticks[0]).toBe(g.domain[0]);
    expect(g.ticks[g.ticks.length - 1]).toBe(g.domain[1]);
    // And one bar per path, in order, inside the plot
    expect(g.bars.map((bar) => bar.path)).toEqual([1, 2, 3, 4, 5]);
    const chance = g.scaleY(0.5);
    for (const bar of g.bars) {
      expect(bar.x).toBeGreaterThanOrEqual(g.plot.left);
      expect(bar.x + bar.width).toBeLessThanOrEqual(g.plot.right);
      if (bar.aboveChance) {
        expect(bar.y + bar.height).toBeCloseTo(chance, 6);
      } else {
        expect(bar.y).toBeCloseTo(chance, 6);
      }
    }
    expect(g.bars[1]!.aboveChance).toBe(false);
    // And taller bars for larger distances from chance
    expect(g.bars[2]!.height).toBeGreaterThan(g.bars[0]!.height);
    // And the band spans mean +- std, above the lower tick
    expect(g.band![0]).toBeCloseTo(0.5019, 4);
    expect(g.band![1]).toBeCloseTo(0.5901, 4);
    expect(g.scaleY(g.band![1])).toBeLessThan(g.scaleY(g.band![0]));
  });

  it("stays drawable with a single path at exactly 0.5 and keeps the axis within [0, 1]", () => {
    const g = aucChartGeometry({ ...summary, pathAuc: [0.5], mean: 0.5, std: 0 });
    expect(g.bars).toHaveLength(1);
    expect(g.bars[0]!.height).toBe(0.5);
    expect(g.domain[1]).toBeGreaterThan(g.domain[0]);
    const extreme = aucChartGeometry({ ...summary, pathAuc: [0.02, 0.99], mean: 0.505, std: 0.485 });
    expect(extreme.domain[0]).toBeGreaterThanOrEqual(0);
    expect(extreme.domain[1]).toBeLessThanOrEqual(1);
    expect(extreme.ticks.length).toBeLessThanOrEqual(6);
  });
});
