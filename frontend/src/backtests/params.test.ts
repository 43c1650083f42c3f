import { describe, expect, it } from "vitest";

import {
  countRuleBreaks,
  gridSize,
  looseValue,
  parseAssignments,
  parseParamValue,
  parseValueList,
  splitParams,
} from "./params";
import { strategy } from "./testing";

const [fast, slow, ma] = strategy("ma_crossover").params as [never, never, never];
const longShort = strategy("ts_momentum").params[2]!;
const topFraction = strategy("cross_sectional_momentum").params[0]!;

describe("parseParamValue", () => {
  it("types a value by the parameter's kind", () => {
    expect(parseParamValue(" 20 ", fast)).toEqual({ ok: true, value: 20 });
    expect(parseParamValue("ema", ma)).toEqual({ ok: true, value: "ema" });
    expect(parseParamValue("TRUE", longShort)).toEqual({ ok: true, value: true });
    expect(parseParamValue("0.25", topFraction)).toEqual({ ok: true, value: 0.25 });
  });

  it("refuses fractions for integers, values out of bounds, unknown choices and text for numbers", () => {
    expect(parseParamValue("2.5", fast)).toMatchObject({ ok: false, error: expect.stringMatching(/whole number/) });
    expect(parseParamValue("0", fast)).toMatchObject({ ok: false, error: expect.stringMatching(/≥ 1/) });
    expect(parseParamValue("1.5", topFraction)).toMatchObject({ ok: false, error: expect.stringMatching(/≤ 1/) });
    expect(parseParamValue("wma", ma)).toMatchObject({ ok: false, error: expect.stringMatching(/one of sma, ema/) });
    expect(parseParamValue("10x", fast)).toMatchObject({ ok: false, error: expect.stringMatching(/number/) });
    expect(parseParamValue("", fast).ok).toBe(false);
    expect(parseParamValue("yes", longShort).ok).toBe(false);
  });
});

describe("parseValueList (sweep grid values)", () => {
  it("reads comma or space separated lists, dropping duplicates in order", () => {
    expect(parseValueList("5, 10,20 10", fast)).toEqual({ ok: true, value: [5, 10, 20] });
    expect(parseValueList("sma, ema", ma)).toEqual({ ok: true, value: ["sma", "ema"] });
    expect(parseValueList("true,false", longShort)).toEqual({ ok: true, value: [true, false] });
  });

  it("expands start:stop:step ranges, ends included, floats without rounding noise", () => {
    expect(parseValueList("10:50:10", slow)).toEqual({ ok: true, value: [10, 20, 30, 40, 50] });
    expect(parseValueList("10:45:10", slow)).toEqual({ ok: true, value: [10, 20, 30, 40] });
    expect(parseValueList("2:4", fast)).toEqual({ ok: true, value: [2, 3, 4] });
    expect(parseValueList("0.1:0.3:0.1", topFraction)).toEqual({ ok: true, value: [0.1, 0.2, 0.3] });
    expect(parseValueList("5, 100:200:100", slow)).toEqual({ ok: true, value: [5, 100, 200] });
  });

  it("explains bad lists and ranges", () => {
    expect(parseValueList("", fast)).toMatchObject({ ok: false, error: "fast: no values" });
    expect(parseValueList("50:10:5", fast)).toMatchObject({ ok: false, error: expect.stringMatching(/start ≤ stop/) });
    expect(parseValueList("1:10:0", fast).ok).toBe(false);
    expect(parseValueList("0.1:0.5", topFraction)).toMatchObject({ ok: false, error: expect.stringMatching(/start:stop:step/) });
    expect(parseValueList("1:100000:1", fast)).toMatchObject({ ok: false, error: expect.stringMatching(/at most 5000/) });
    expect(parseValueList("0:10:5", fast)).toMatchObject({ ok: false, error: expect.stringMatching(/≥ 1/) });
    expect(parseValueList("5, x", fast).ok).toBe(false);
  });
});

describe("grid size and rule breaks", () => {
  it("multiplies the list lengths", () => {
    expect(gridSize({ fast: [5, 10, 20], slow: [50, 100, 200], ma: ["sma", "ema"] })).toBe(18);
    expect(gridSize({})).toBe(0);
  });

  it("counts the configurations that break a smaller < larger rule, fixed values included", () => {
    const rules: [string, string][] = [["fast", "slow"]];
    expect(countRuleBreaks({ fast: [5, 10, 20], slow: [10, 50] }, {}, rules)).toBe(2);
    expect(countRuleBreaks({ fast: [5, 60] }, { slow: 50 }, rules)).toBe(1);
    expect(countRuleBreaks({ fast: [5, 10] }, { slow: 50 }, rules)).toBe(0);
    expect(countRuleBreaks({ ma: ["sma"] }, {}, rules)).toBe(0);
  });
});

describe("free parameters (a strategy the catalogue lacks)", () => {
  it("reads name=value pairs with loosely typed values", () => {
    expect(parseAssignments("fast=10, slow = 50\nma: ema; flag=true")).toEqual({
      ok: true,
      value: { fast: 10, slow: 50, ma: "ema", flag: true },
    });
    expect(parseAssignments("")).toEqual({ ok: true, value: {} });
    expect(parseAssignments("fast 10")).toMatchObject({ ok: false });
    expect(looseValue("1e-3")).toBe(0.001);
    expect(looseValue("sma")).toBe("sma");
  });
});

describe("splitParams", () => {
  it("gives varying parameters a column and lists the shared ones once", () => {
    const configs = [
      { ma: "sma", fast: 10, slow: 150 },
      { ma: "sma", fast: 5, slow: 150 },
    ];
    expect(splitParams(configs)).toEqual({ varying: ["fast"], constant: [["ma", "sma"], ["slow", 150]] });
    expect(splitParams([])).toEqual({ varying: [], constant: [] });
  });
});
