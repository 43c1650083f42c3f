import { describe, expect, it } from "vitest";

import { normalizeStrategies, symbolCountProblem, tradesOneSymbol } from "./strategies";
import { CATALOGUE, strategy } from "./testing";

describe("normalizeStrategies", () => {
  it("reads the registry's JSON Schema types and 'a < b' constraints", () => {
    // Given the API's body (fixture), when normalized
    const ma = strategy("ma_crossover");
    // Then the kinds, bounds, choices and rules are typed
    expect(ma.params.map((p) => [p.name, p.kind, p.default])).toEqual([
      ["fast", "int", 10],
      ["slow", "int", 50],
      ["ma", "str", "sma"],
    ]);
    expect(ma.params[0]).toMatchObject({ minimum: 1, maximum: 10000, choices: [] });
    expect(ma.params[2]?.choices).toEqual(["sma", "ema"]);
    expect(ma.lessThan).toEqual([["fast", "slow"]]);
    expect(strategy("ts_momentum").params[2]).toMatchObject({ kind: "bool", default: false, minimum: null });
    expect(CATALOGUE.map((item) => item.needsPanel)).toEqual([false, false, true]);
  });

  it("also reads Python kinds and less_than pairs, and survives junk", () => {
    // Given the other documented shape and a malformed body
    const body = {
      strategies: [{ name: "x", output: "target_weights", params: [{ name: "k", kind: "float", default: 2 }], less_than: [["a", "b"]] }],
    };
    // Then both are read
    const [x] = normalizeStrategies(body);
    expect(x?.params[0]).toMatchObject({ name: "k", kind: "float", default: 2, minimum: null, maximum: null });
    expect(x?.lessThan).toEqual([["a", "b"]]);
    expect(normalizeStrategies(null)).toEqual([]);
    expect(normalizeStrategies({ strategies: "nope" })).toEqual([]);
  });
});

describe("symbol count rules", () => {
  it("asks entries/exits strategies for one symbol and panel strategies for two or more", () => {
    expect(tradesOneSymbol(strategy("ma_crossover"))).toBe(true);
    expect(tradesOneSymbol(strategy("ts_momentum"))).toBe(false);
    expect(symbolCountProblem(strategy("ma_crossover"), 2)).toMatch(/trades one symbol/);
    expect(symbolCountProblem(strategy("ma_crossover"), 1)).toBeNull();
    expect(symbolCountProblem(strategy("ts_momentum"), 3)).toBeNull();
    expect(symbolCountProblem(strategy("cross_sectional_momentum"), 1)).toMatch(/at least two/);
    expect(symbolCountProblem(null, 0)).toMatch(/at least one/);
  });
});
