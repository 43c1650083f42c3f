import { describe, expect, it } from "vitest";

import { dsrVerdict, histogramBars, pboVerdict, pct, signedPct, tone } from "./format";

describe("number formats", () => {
  it("writes percentages and signs, and a dash for missing values", () => {
    expect(pct(0.12345)).toBe("12.35%");
    expect(signedPct(0.05, 1)).toBe("+5.0%");
    expect(signedPct(-0.05, 1)).toBe("-5.0%");
    expect(pct(null)).toBe("—");
    expect(pct(Number.NaN)).toBe("—");
    expect([tone(1), tone(-1), tone(0), tone(null)]).toEqual(["up", "down", "", ""]);
  });
});

describe("plain-language verdicts", () => {
  it("reads PBO as low, some or likely overfitting, naming the splits", () => {
    expect(pboVerdict(0.05, 12870)).toMatchObject({ tone: "good", label: "low overfitting" });
    expect(pboVerdict(0.3, 70)).toMatchObject({ tone: "warn" });
    const bad = pboVerdict(0.62, 70);
    expect(bad.tone).toBe("bad");
    expect(bad.text).toContain("In 62% of the 70 train/test splits");
  });

  it("reads the deflated Sharpe ratio as a probability over the trials", () => {
    expect(dsrVerdict(0.97, 9)).toMatchObject({ tone: "good", label: "significant" });
    expect(dsrVerdict(0.6, 9).tone).toBe("warn");
    expect(dsrVerdict(0.2, 500).text).toContain("500 tried configurations");
  });
});

describe("logit histogram bars", () => {
  it("marks bins left of zero overfit, right of it sound, and the one holding zero mixed", () => {
    const bars = histogramBars([-1, -0.5, 0, 0.5, 1], [3, 4, 5, 6]);
    expect(bars.map((bar) => bar.tone)).toEqual(["overfit", "overfit", "mixed", "sound"]);
    expect(bars[2]).toMatchObject({ from: 0, to: 0.5, count: 5 });
    expect(histogramBars([-1, 1], [7])[0]?.tone).toBe("mixed");
  });
});
