/** Test fixtures: the strategy catalogue as GET /v1/backtests/strategies answers it (two of its entries). */
import { normalizeStrategies, type StrategyInfo } from "./strategies";

export const CATALOGUE_BODY = {
  strategies: [
    {
      name: "ma_crossover",
      description: "long when the fast MA crosses above the slow MA, flat when it crosses below",
      output: "entries_exits",
      needs_panel: false,
      params: [
        { name: "fast", type: "integer", default: 10, minimum: 1, maximum: 10000, description: "fast window" },
        { name: "slow", type: "integer", default: 50, minimum: 2, maximum: 10000, description: "slow window" },
        { name: "ma", type: "string", default: "sma", choices: ["sma", "ema"], description: "moving-average type" },
      ],
      constraints: ["fast < slow"],
    },
    {
      name: "ts_momentum",
      description: "long (or short) each asset by the sign of its trailing return",
      output: "target_weights",
      needs_panel: false,
      params: [
        { name: "lookback", type: "integer", default: 252, minimum: 1, maximum: 10000, description: "" },
        { name: "rebalance", type: "string", default: "monthly", choices: ["monthly", "daily"], description: "" },
        { name: "long_short", type: "boolean", default: false, description: "short on a negative return" },
      ],
      constraints: [],
    },
    {
      name: "cross_sectional_momentum",
      description: "equal weights in the top fraction of a panel",
      output: "target_weights",
      needs_panel: true,
      params: [{ name: "top_fraction", type: "number", default: 0.1, minimum: 0.01, maximum: 1.0, description: "" }],
      constraints: [],
    },
  ],
};

export const CATALOGUE: StrategyInfo[] = normalizeStrategies(CATALOGUE_BODY);

export function strategy(name: string): StrategyInfo {
  const found = CATALOGUE.find((item) => item.name === name);
  if (!found) {
    throw new Error(`no fixture strategy ${name}`);
  }
  return found;
}
