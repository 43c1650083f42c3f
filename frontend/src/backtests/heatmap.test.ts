import { describe, expect, it } from "vitest";

import { cellText, colourLimit, compoundReturn, heatColour, heatRows } from "./heatmap";

function alpha(colour: string): number {
  return Number(/, ([\d.]+)\)$/.exec(colour)?.[1]);
}

describe("heat map colour scale", () => {
  it("paints gains green and losses red, equally strong for equal sizes", () => {
    const gain = heatColour(0.05, 0.1);
    const loss = heatColour(-0.05, 0.1);
    expect(gain).toMatch(/^rgba\(38, 166, 154,/);
    expect(loss).toMatch(/^rgba\(239, 83, 80,/);
    expect(alpha(gain)).toBeCloseTo(0.5, 6);
    expect(alpha(loss)).toBe(alpha(gain));
  });

  it("grows with the size and saturates beyond the limit", () => {
    expect(alpha(heatColour(0.01, 0.1))).toBeLessThan(alpha(heatColour(0.09, 0.1)));
    expect(alpha(heatColour(0.1, 0.1))).toBeCloseTo(0.9, 6);
    expect(heatColour(-0.4, 0.1)).toBe(heatColour(-0.1, 0.1));
  });

  it("leaves months without data blank and flat months neutral", () => {
    expect(heatColour(null, 0.1)).toBe("transparent");
    expect(heatColour(Number.NaN, 0.1)).toBe("transparent");
    expect(heatColour(0, 0.1)).toMatch(/^rgba\(131, 145, 162,/);
  });

  it("takes the 95th percentile of the absolute returns as the limit, at least 1%", () => {
    // Given 19 months of ±2% and one crash of -30%
    const months = Array.from({ length: 19 }, (_, i) => (i % 2 ? 0.02 : -0.02));
    // Then the crash does not set the scale
    expect(colourLimit([months.slice(0, 12), [...months.slice(12), -0.3, null, null, null, null]])).toBeCloseTo(0.02, 9);
    expect(colourLimit([[0.001, -0.002]])).toBe(0.01);
    expect(colourLimit([])).toBe(0.01);
  });
});

describe("yearly totals and rows", () => {
  it("compounds the months of a year", () => {
    expect(compoundReturn([0.1, null, -0.1])).toBeCloseTo(-0.01, 12);
    expect(compoundReturn([null, null])).toBeNull();
  });

  it("lists the newest year first, each padded to twelve months", () => {
    const rows = heatRows({ years: [2017, 2018], table: [[0.01, 0.02], [null, 0.1]] });
    expect(rows.map((row) => row.year)).toEqual([2018, 2017]);
    expect(rows[0]?.months).toHaveLength(12);
    expect(rows[0]?.months.slice(0, 3)).toEqual([null, 0.1, null]);
    expect(rows[1]?.total).toBeCloseTo(1.01 * 1.02 - 1, 12);
  });

  it("writes cells in percent with one decimal, without a minus on a rounded zero", () => {
    expect(cellText(0.0567)).toBe("5.7");
    expect(cellText(-0.0001)).toBe("0.0");
    expect(cellText(-0.012)).toBe("-1.2");
    expect(cellText(null)).toBe("");
  });
});
