import { describe, expect, it } from "vitest";

import { linkBody, parseParams } from "./StrategiesPage";

describe("strategy parameters", () => {
  it("reads a JSON object, empty as the defaults, and explains anything else", () => {
    expect(parseParams("")).toEqual({ value: {}, problem: null });
    expect(parseParams('{"fast": 10}')).toEqual({ value: { fast: 10 }, problem: null });
    expect(parseParams("[1, 2]").problem).toBe('params must be a JSON object, e.g. {"fast": 10}');
    expect(parseParams("{fast").problem).toMatch(/^params is not JSON: /);
  });
});

describe("links to a version", () => {
  it("sends the ids typed (comma or space separated, once each) under the chosen kind", () => {
    expect(linkBody("sweeps", " a1, b2 a1 ")).toEqual({ backtests: [], sweeps: ["a1", "b2"], models: [] });
    expect(linkBody("backtests", "x")).toEqual({ backtests: ["x"], sweeps: [], models: [] });
    expect(linkBody("models", " , ")).toBeNull();
  });
});
