import { describe, expect, it } from "vitest";

import { buildOptimizeRequest, defaultPortfolioForm, portfolioProblems } from "./form";

describe("portfolio form", () => {
  it("refuses fewer than two symbols and infeasible bounds, naming the numbers", () => {
    // Given one symbol and bounds that cannot sum to 100 %
    const form = { ...defaultPortfolioForm, symbols: ["A", "B", "C"], upper: "0.3" };
    // When checked / Then the infeasibility is explained with the numbers
    expect(portfolioProblems(form)).toEqual(["Infeasible: 3 symbols × upper bound 0.3 < 100%"]);
    expect(portfolioProblems({ ...defaultPortfolioForm, symbols: ["A"] })[0]).toBe("Choose at least 2 symbols, got 1");
  });

  it("sends targets only for the methods that use them", () => {
    // Given a form with both targets filled
    const form = { ...defaultPortfolioForm, symbols: ["A", "B"], method: "efficient_risk" as const };
    // When built for efficient_risk / max_sharpe
    const risk = buildOptimizeRequest(form);
    const sharpe = buildOptimizeRequest(form, "max_sharpe");
    // Then only the volatility target rides along, and only where it is used
    expect(risk.target_volatility).toBe(0.15);
    expect(risk.target_return).toBeUndefined();
    expect(sharpe.target_volatility).toBeUndefined();
    expect(sharpe.weight_bounds).toEqual([0, 1]);
  });

  it("checks dates", () => {
    const form = { ...defaultPortfolioForm, symbols: ["A", "B"], start: "2020-01-02", end: "2019-01-01" };
    expect(portfolioProblems(form)).toEqual(["Start 2020-01-02 is after end 2019-01-01"]);
  });
});
