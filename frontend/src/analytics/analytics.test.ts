import { describe, expect, it } from "vitest";

import { simulationProblems } from "../simulations/SimulationsPage";
import { buildFilter } from "./ScreenerTab";

describe("screener filter", () => {
  it("builds the API's filter language and names a bad row", () => {
    // Given two conditions, one without a number
    const rows = [
      { field: "return_20d", op: ">", value: "0.05" },
      { field: "rsi_14", op: "<", value: "abc" },
    ];
    // When built / Then the good one is sent and the bad one is explained
    expect(buildFilter(rows)).toEqual({
      filter: { all: [{ field: "return_20d", op: ">", value: 0.05 }] },
      problems: ["condition 2 (rsi_14): value must be a number, got abc"],
    });
    expect(buildFilter([]).filter).toBeNull();
  });
});

describe("simulation form", () => {
  const form = { model: "bootstrap" as const, symbols: ["SP500"], paths: "10000", horizon: "252", wealth: "1000000", ruin: "0.5", seed: "0", block: "20" };
  it("accepts the defaults and refuses out-of-range numbers with the value", () => {
    expect(simulationProblems(form)).toEqual([]);
    expect(simulationProblems({ ...form, paths: "0", ruin: "1" })).toEqual([
      "paths must be a whole number in [1, 1,000,000], got 0",
      "ruin_fraction must be in (0, 1), got 1",
    ]);
  });
});
