/** Walk-forward results without React: the stitched curve's drawdown and what the folds say together. */
import { paramText } from "./params";
import type { WalkForwardFold } from "./types";

/** equity / running peak − 1 at every bar (0 at a new high). */
export function drawdownSeries(equity: readonly number[]): number[] {
  let peak = Number.NEGATIVE_INFINITY;
  return equity.map((value) => {
    peak = Math.max(peak, value);
    return peak > 0 ? value / peak - 1 : 0;
  });
}

export interface FoldStats {
  folds: number;
  /** Means over the folds with a finite Sharpe ratio (annualized). */
  meanInSample: number | null;
  meanOutOfSample: number | null;
  /** Share of folds whose out-of-sample Sharpe ratio is above zero. */
  positiveOutOfSample: number | null;
  /** How often the chosen configuration differs from the previous fold's. */
  switches: number;
}

function mean(values: (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null && Number.isFinite(value));
  return known.length === 0 ? null : known.reduce((sum, value) => sum + value, 0) / known.length;
}

function configKey(config: WalkForwardFold["chosen"]): string {
  return Object.keys(config)
    .sort()
    .map((name) => `${name}=${paramText(config[name])}`)
    .join(",");
}

export function foldStats(folds: readonly WalkForwardFold[]): FoldStats {
  const outOfSample = folds.map((fold) => fold.out_of_sample_sharpe);
  const known = outOfSample.filter((value): value is number => value !== null && Number.isFinite(value));
  return {
    folds: folds.length,
    meanInSample: mean(folds.map((fold) => fold.in_sample_sharpe)),
    meanOutOfSample: mean(outOfSample),
    positiveOutOfSample: known.length === 0 ? null : known.filter((value) => value > 0).length / known.length,
    switches: folds.filter((fold, i) => i > 0 && configKey(fold.chosen) !== configKey(folds[i - 1]!.chosen)).length,
  };
}
