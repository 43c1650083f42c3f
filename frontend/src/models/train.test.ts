import { describe, expect, it } from "vitest";

import { buildTrainRequest, choose, cpcvProblems, cpcvShape, defaultTrainForm, trainProblems, type TrainForm } from "./train";

function form(patch: Partial<TrainForm> = {}): TrainForm {
  return { ...defaultTrainForm(), symbols: ["SP500"], start: "2014-01-01", ...patch };
}

describe("combinatorial purged CV shape", () => {
  it("counts C(N, k) splits and C(N-1, k-1) backtest paths", () => {
    // Given the defaults offered when switched on (6 groups, 2 test groups), Then 15 splits and 5 paths
    expect(cpcvShape(6, 2)).toEqual({ splits: 15, paths: 5 });
    // And the textbook example of López de Prado (N=6, k=2) and other shapes
    expect(cpcvShape(10, 2)).toEqual({ splits: 45, paths: 9 });
    expect(cpcvShape(4, 1)).toEqual({ splits: 4, paths: 1 });
    expect(choose(12, 6)).toBe(924);
    expect(choose(3, 5)).toBe(0);
  });
});

describe("training form -> POST /v1/models/train", () => {
  it("sends combinatorial purged CV off (0 groups) by default", () => {
    // Given the form as it opens
    const built = buildTrainRequest(form());
    // Then CPCV is off, and the test groups carry the API's default (validated by the API even when off)
    expect(trainProblems(form())).toEqual([]);
    expect(built.cpcv_groups).toBe(0);
    expect(built.cpcv_test_groups).toBe(2);
    expect(built.start).toBe("2014-01-01");
    expect("end" in built).toBe(false);
  });

  it("sends the groups when switched on, and ignores bad CPCV fields while it is off", () => {
    // Given CPCV on with the offered 6/2
    const on = form({ cpcv: true });
    // Then it is valid and sent as numbers
    expect(trainProblems(on)).toEqual([]);
    expect(buildTrainRequest(on)).toMatchObject({ cpcv_groups: 6, cpcv_test_groups: 2 });
    // And when switched off again with garbage left in the fields, nothing is refused and 0 is sent
    const off = form({ cpcv: false, cpcvGroups: "x", cpcvTestGroups: "99" });
    expect(trainProblems(off)).toEqual([]);
    expect(buildTrainRequest(off)).toMatchObject({ cpcv_groups: 0, cpcv_test_groups: 2 });
  });

  it("mirrors the API's CPCV rules with the values in the message", () => {
    const problems = (groups: string, testGroups: string) => cpcvProblems(form({ cpcv: true, cpcvGroups: groups, cpcvTestGroups: testGroups }));
    // ranges (pydantic: 0 <= groups <= 12, 1 <= test groups <= 6; on means >= 2 groups)
    expect(problems("1", "1")).toEqual(["cpcv_groups must be a whole number in [2, 12], got 1"]);
    expect(problems("13", "2")).toEqual(["cpcv_groups must be a whole number in [2, 12], got 13"]);
    expect(problems("6", "0")).toEqual(["cpcv_test_groups must be a whole number in [1, 6], got 0"]);
    expect(problems("6.5", "")).toEqual([
      "cpcv_groups must be a whole number in [2, 12], got 6.5",
      "cpcv_test_groups must be a whole number in [1, 6], got nothing",
    ]);
    // k < N (validate_request)
    expect(problems("4", "4")).toEqual(["cpcv_test_groups (4) must be below cpcv_groups (4)"]);
    // at most 45 splits (MAX_CPCV_SPLITS): 10/2 = 45 passes, 12/3 = 220 does not
    expect(problems("10", "2")).toEqual([]);
    expect(problems("12", "3")).toEqual(["cpcv_groups=12, cpcv_test_groups=3 make 220 splits (a model each); at most 45"]);
    expect(problems(" 8 ", "1")).toEqual([]);
  });

  it("mirrors the API's other bounds: trials, purged folds (not 1), symbols, feature set length", () => {
    expect(trainProblems(form({ maxTrials: "17", cvFolds: "11" }))).toEqual([
      "max_trials must be a whole number in [1, 16], got 17",
      "cv_folds must be a whole number in [0, 10], got 11",
    ]);
    expect(trainProblems(form({ cvFolds: "1" }))).toEqual(["cv_folds must be 0 (no cross-validation) or at least 2"]);
    const many = Array.from({ length: 51 }, (_, i) => `S${i}`);
    expect(trainProblems(form({ symbols: many, featureSet: "f".repeat(65) }))).toEqual([
      "Choose at most 50 symbols, got 51",
      "feature_set is at most 64 characters, got 65",
    ]);
  });
});

describe("training form, the API's limits", () => {
  const base = { symbols: ["SP500"], start: "2014-01-01", end: "", featureSet: "alpha_v1", label: "triple_barrier" as const, horizon: "10", maxTrials: "1", cvFolds: "0", deploy: true };
  it("checks whole numbers, ranges and dates", () => {
    expect(trainProblems(base)).toEqual([]);
    expect(trainProblems({ ...base, symbols: [], horizon: "2.5", start: "2020-01-01", end: "2019-01-01" })).toEqual([
      "Choose at least one symbol",
      "horizon must be a whole number in [1, 2520], got 2.5",
      "start 2020-01-01 is after end 2019-01-01",
    ]);
  });
});
