/**
 * Bodies of the research API. Requests and run records are generated from docs/openapi.json; the tearsheet,
 * sweep summary and PBO bodies are free-form objects in the OpenAPI document, so their shape is written
 * here from the API's code (trade2026/services/research.py, domain/overfitting.py).
 */
import type { components } from "../api/schema";

export type BacktestRequest = components["schemas"]["BacktestRequest"];
export type SweepRequest = components["schemas"]["SweepRequest"];
export type WalkForwardRequest = components["schemas"]["WalkForwardRequest"];
export type SizingSpec = components["schemas"]["SizingSpec"];
/**
 * A run record of GET /v1/backtests, written here from functions/backtests/app.py: the OpenAPI document
 * has two models named RunInfo (backtests and ML), and the generated component may be either one.
 */
export interface RunInfo {
  id: string;
  kind: string;
  status: string;
  created_at: string;
  strategy: string;
  symbols: string[];
  chunks_total?: number;
  chunks_done?: number;
  error?: string | null;
  summary?: { [key: string]: unknown } | null;
  request?: { [key: string]: unknown };
}
export interface RunList {
  runs: RunInfo[];
}
export type ParamValue = number | string | boolean;

/** NaN and infinities arrive as null. */
type Num = number | null;

export interface PerformanceMetrics {
  n_bars: Num;
  total_return: Num;
  annualized_return: Num;
  annualized_volatility: Num;
  sharpe: Num;
  sortino: Num;
  calmar: Num;
  max_drawdown: Num;
  max_drawdown_duration: Num;
  longest_drawdown_duration?: Num;
  skewness?: Num;
  kurtosis?: Num;
  exposure: Num;
  turnover?: Num;
}

export interface BacktestMetrics extends PerformanceMetrics {
  probabilistic_sharpe: Num;
  final_equity: Num;
}

export interface TradeStats {
  n_trades: Num;
  hit_rate: Num;
  profit_factor: Num;
  average_win: Num;
  average_loss: Num;
  expectancy: Num;
  average_win_return?: Num;
  average_loss_return?: Num;
  expectancy_return?: Num;
}

export interface Trade {
  symbol: string;
  entry: string;
  exit: string;
  direction: "long" | "short";
  size: number;
  entry_price: number;
  exit_price: number;
  fees: number;
  pnl: number;
  return: number;
  exit_reason: string;
}

export interface MonthlyReturns {
  years: number[];
  /** One row per year, 12 monthly returns each (null: no bar that month). */
  table: Num[][];
}

export interface BacktestResult {
  id: string;
  metrics: BacktestMetrics;
  trade_stats: TradeStats;
  series: {
    dates: string[];
    equity: number[];
    drawdown: number[];
    rolling_sharpe: Num[] | null;
  };
  monthly_returns: MonthlyReturns;
  trades: Trade[];
  trades_total: number;
}

export interface RankedConfig {
  rank: number;
  params: Record<string, ParamValue>;
  metrics: PerformanceMetrics & { n_trades?: Num; hit_rate?: Num; profit_factor?: Num };
}

export interface DeflatedSharpe {
  selected?: number;
  /** Per bar, not annualized. */
  sharpe: Num;
  n_obs?: number;
  n_trials: number;
  sharpe_variance?: Num;
  expected_max_sharpe: Num;
  skewness?: Num;
  kurtosis?: Num;
  psr: Num;
  dsr: Num;
}

export interface PboReport {
  pbo: number;
  n_blocks?: number;
  n_splits: number;
  rows_used?: number;
  block_size?: number;
  degradation: { slope: Num; intercept: Num; r2: Num; prob_oos_loss: Num };
  logit_histogram: { edges: number[]; counts: number[] };
  dominance?: {
    grid: number[];
    cdf_selected: number[];
    cdf_all: number[];
    first_order_dominant?: boolean;
    second_order_dominant?: boolean;
  };
}

export interface SweepSummary {
  configs: number;
  best: RankedConfig[];
  deflated_sharpe: DeflatedSharpe;
  /** The PBO value (the full report is GET /v1/backtests/sweeps/{id}/pbo). */
  pbo: number | null;
}

export const ACTIVE_STATUSES = ["PENDING", "RUNNING"] as const;

export function isActive(status: string): boolean {
  return (ACTIVE_STATUSES as readonly string[]).includes(status);
}

export interface WalkForwardFold {
  index: number;
  /** [first, last] bar dates, inclusive. */
  train: [string, string];
  test: [string, string];
  chosen: Record<string, ParamValue>;
  in_sample_sharpe: Num;
  out_of_sample_sharpe: Num;
}

export interface WalkForwardResult {
  folds: WalkForwardFold[];
  configs: number;
  oos_metrics: PerformanceMetrics;
  oos_series: { dates: string[]; equity: number[] };
}
