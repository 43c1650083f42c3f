import type { components } from "../api/schema";

export type OptimizeRequest = components["schemas"]["OptimizeRequest"];
export type OptimizeResponse = components["schemas"]["OptimizeResponse"];
export type CovarianceRequest = components["schemas"]["CovarianceRequest"];
export type CovarianceResponse = components["schemas"]["CovarianceResponse"];
export type Method = OptimizeRequest["method"];
export type CovMethod = CovarianceRequest["method"];
export type MuMethod = NonNullable<OptimizeRequest["expected_returns"]>["method"];
export type Rebalance = NonNullable<OptimizeRequest["backtest"]>["rebalance"];

export const METHODS: [Method, string][] = [
  ["max_sharpe", "Max Sharpe"],
  ["min_volatility", "Min volatility"],
  ["efficient_return", "Efficient return (target μ)"],
  ["efficient_risk", "Efficient risk (target σ)"],
  ["efficient_frontier", "Efficient frontier"],
  ["hrp", "Hierarchical risk parity"],
  ["herc", "Hierarchical equal risk contribution"],
  ["risk_parity", "Risk parity (ERC)"],
  ["min_cvar", "Min CVaR"],
];
export const COV_METHODS: CovMethod[] = ["sample", "ewma", "ledoit_wolf", "denoised"];
export const MU_METHODS: MuMethod[] = ["mean", "ewma", "james_stein"];
export const REBALANCES: Rebalance[] = ["none", "weekly", "monthly", "quarterly", "yearly"];

export interface PortfolioForm {
  symbols: string[];
  method: Method;
  lower: string;
  upper: string;
  riskFree: string;
  targetReturn: string;
  targetVolatility: string;
  covariance: CovMethod;
  expectedReturns: MuMethod;
  rebalance: Rebalance;
  feesBps: string;
  start: string;
  end: string;
}

export const defaultPortfolioForm: PortfolioForm = {
  symbols: [],
  method: "max_sharpe",
  lower: "0",
  upper: "1",
  riskFree: "0",
  targetReturn: "0.1",
  targetVolatility: "0.15",
  covariance: "ledoit_wolf",
  expectedReturns: "mean",
  rebalance: "monthly",
  feesBps: "0",
  start: "",
  end: "",
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function num(text: string): number | null {
  const value = Number(text.trim());
  return text.trim() !== "" && Number.isFinite(value) ? value : null;
}

/** Reasons the API would refuse these inputs (checked here to answer before the request). */
export function portfolioProblems(form: PortfolioForm): string[] {
  const problems: string[] = [];
  if (form.symbols.length < 2) {
    problems.push(`Choose at least 2 symbols, got ${form.symbols.length}`);
  }
  const lower = num(form.lower);
  const upper = num(form.upper);
  if (lower === null || upper === null) {
    problems.push("Weight bounds must be numbers");
  } else {
    if (lower > upper) {
      problems.push(`Lower weight bound ${lower} is above the upper bound ${upper}`);
    }
    if (upper * form.symbols.length < 1 && form.symbols.length >= 2) {
      problems.push(`Infeasible: ${form.symbols.length} symbols × upper bound ${upper} < 100%`);
    }
    if (lower * form.symbols.length > 1) {
      problems.push(`Infeasible: ${form.symbols.length} symbols × lower bound ${lower} > 100%`);
    }
  }
  if (num(form.riskFree) === null) {
    problems.push("Risk-free rate must be a number (annual, e.g. 0.02)");
  }
  if (form.method === "efficient_return" && num(form.targetReturn) === null) {
    problems.push("efficient_return needs a target return (annual, e.g. 0.1)");
  }
  if (form.method === "efficient_risk" && (num(form.targetVolatility) ?? 0) <= 0) {
    problems.push("efficient_risk needs a target volatility > 0 (annual, e.g. 0.15)");
  }
  const fees = num(form.feesBps);
  if (fees === null || fees < 0) {
    problems.push(`Fees must be ≥ 0 bps, got ${form.feesBps || "nothing"}`);
  }
  for (const [label, value] of [["Start", form.start], ["End", form.end]] as const) {
    if (value && !DATE.test(value)) {
      problems.push(`${label} must be YYYY-MM-DD, got ${value}`);
    }
  }
  if (form.start && form.end && form.start > form.end) {
    problems.push(`Start ${form.start} is after end ${form.end}`);
  }
  return problems;
}

export function buildOptimizeRequest(form: PortfolioForm, method: Method = form.method): OptimizeRequest {
  const request: OptimizeRequest = {
    symbols: form.symbols,
    method,
    weight_bounds: [Number(form.lower), Number(form.upper)],
    risk_free_rate: Number(form.riskFree),
    covariance: { method: form.covariance, bandwidth: 0.01, detone: false, market_components: 1 },
    expected_returns: { method: form.expectedReturns },
    backtest: { rebalance: form.rebalance, fees_bps: Number(form.feesBps), slippage_bps: 0, initial_cash: 100_000 },
    frontier_points: 20,
    cvar_alpha: 0.95,
    interval: "1d",
    linkage: "single",
    optimal_ordering: false,
    transaction_cost_bps: 0,
  };
  if (method === "efficient_return" || method === "min_cvar") {
    if (form.targetReturn.trim() && method === "efficient_return") {
      request.target_return = Number(form.targetReturn);
    }
  }
  if (method === "efficient_risk") {
    request.target_volatility = Number(form.targetVolatility);
  }
  if (form.start) {
    request.start = form.start;
  }
  if (form.end) {
    request.end = form.end;
  }
  return request;
}

export function buildCovarianceRequest(form: PortfolioForm): CovarianceRequest {
  const request: CovarianceRequest = {
    symbols: form.symbols,
    method: form.covariance,
    interval: "1d",
    bandwidth: 0.01,
    detone: false,
    market_components: 1,
  };
  if (form.start) {
    request.start = form.start;
  }
  if (form.end) {
    request.end = form.end;
  }
  return request;
}
