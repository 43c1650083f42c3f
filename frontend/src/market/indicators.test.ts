import { describe, expect, it } from "vitest";

import { ema, sma } from "./indicators";

describe("sma", () => {
  it("averages the last `period` values and is null during warm-up", () => {
    expect(sma([1, 2, 3, 4, 5], 3)).toEqual([null, null, 2, 3, 4]);
  });

  it("with period 1 is the series itself", () => {
    expect(sma([3, 1, 4], 1)).toEqual([3, 1, 4]);
  });

  it("is all null when the series is shorter than the period", () => {
    expect(sma([1, 2], 5)).toEqual([null, null]);
  });

  it("stays exact over a long rolling window (no drift)", () => {
    // Given 10,000 prices around 2,500 with cents
    const prices = Array.from({ length: 10_000 }, (_, i) => 2500 + ((i * 37) % 101) / 100);
    const result = sma(prices, 50);
    // Then the last value equals the direct mean of the last 50 prices
    const direct = prices.slice(-50).reduce((sum, value) => sum + value, 0) / 50;
    expect(result.at(-1)).toBeCloseTo(direct, 9);
  });

  it("rejects a period that is not a positive integer", () => {
    expect(() => sma([1], 0)).toThrow(RangeError);
    expect(() => sma([1], 2.5)).toThrow(RangeError);
  });
});

describe("ema", () => {
  it("seeds with the SMA of the first period, then applies alpha = 2 / (period + 1)", () => {
    // Given period 3 (alpha 0.5): seed = mean(1, 2, 3) = 2
    // Then 4 -> 0.5*4 + 0.5*2 = 3, and 10 -> 0.5*10 + 0.5*3 = 6.5
    expect(ema([1, 2, 3, 4, 10], 3)).toEqual([null, null, 2, 3, 6.5]);
  });

  it("matches the recursive definition for period 10", () => {
    const closes = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.1, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28];
    const result = ema(closes, 10);
    const alpha = 2 / 11;
    let expected = closes.slice(0, 10).reduce((sum, value) => sum + value, 0) / 10;
    expect(result[9]).toBeCloseTo(expected, 12);
    for (let i = 10; i < closes.length; i++) {
      expected = alpha * closes[i]! + (1 - alpha) * expected;
      expect(result[i]).toBeCloseTo(expected, 12);
    }
    expect(result.slice(0, 9).every((value) => value === null)).toBe(true);
  });

  it("is all null when the series is shorter than the period", () => {
    expect(ema([1, 2], 3)).toEqual([null, null]);
  });
});
