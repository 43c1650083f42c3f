/** A model's combinatorial purged CV result (metrics.cpcv, written by services/ml_training.cpcv_evaluation and
 * domain/ml/metrics.path_auc_summary) read defensively, and the geometry of its per-path AUC chart. */

export interface CpcvSummary {
  groups: number | null;
  testGroups: number | null;
  splits: number | null;
  paths: number | null;
  embargoPct: number | null;
  rows: number | null;
  /** AUC of each backtest path, in path order (empty when the labels hold a single class). */
  pathAuc: number[];
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
}

function finite(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** metrics.cpcv, or null when the run had combinatorial purged CV off (the API stores null then). */
export function readCpcv(metrics: unknown): CpcvSummary | null {
  const raw = (metrics as { cpcv?: unknown } | null | undefined)?.cpcv;
  if (typeof raw !== "object" || raw === null) {
    return null;
  }
  const cpcv = raw as Record<string, unknown>;
  const pathAuc = Array.isArray(cpcv.path_auc) ? cpcv.path_auc.map(finite).filter((v): v is number => v !== null) : [];
  return {
    groups: finite(cpcv.n_groups),
    testGroups: finite(cpcv.n_test_groups),
    splits: finite(cpcv.n_splits),
    paths: finite(cpcv.n_paths),
    embargoPct: finite(cpcv.embargo_pct),
    rows: finite(cpcv.rows),
    pathAuc,
    mean: finite(cpcv.auc_mean),
    std: finite(cpcv.auc_std),
    min: finite(cpcv.auc_min),
    max: finite(cpcv.auc_max),
  };
}

export interface AucChartBar {
  path: number;
  auc: number;
  x: number;
  width: number;
  /** From the chance line (AUC 0.5) to the value: y is the top, height >= 0.5 px so a 0.5 shows. */
  y: number;
  height: number;
  aboveChance: boolean;
}

export interface AucChartGeometry {
  width: number;
  height: number;
  plot: { left: number; right: number; top: number; bottom: number };
  domain: [number, number];
  ticks: number[];
  scaleY: (auc: number) => number;
  bars: AucChartBar[];
  /** Mean and mean +- one standard deviation (null when unknown). */
  mean: number | null;
  band: [number, number] | null;
}

/** Rounds the domain out to a tick step that gives 3-6 gridlines. */
function niceDomain(low: number, high: number): { domain: [number, number]; ticks: number[] } {
  const span = Math.max(high - low, 0.01);
  const step = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25].find((s) => span / s <= 5) ?? 0.25;
  const lo = Math.max(0, Math.floor((low - 1e-9) / step) * step);
  const hi = Math.min(1, Math.ceil((high + 1e-9) / step) * step);
  const ticks: number[] = [];
  for (let value = lo; value <= hi + 1e-9; value += step) {
    ticks.push(Number(value.toFixed(4)));
  }
  return { domain: [Number(lo.toFixed(4)), Number(hi.toFixed(4))], ticks };
}

/** Bars per path measured from AUC 0.5 (chance), the mean line and its +-1 std band; the axis always
 * includes 0.5 so that the bars' direction reads as better or worse than chance. */
export function aucChartGeometry(summary: CpcvSummary, width = 560, height = 200): AucChartGeometry {
  const plot = { left: 44, right: width - 10, top: 10, bottom: height - 24 };
  const band: [number, number] | null = summary.mean !== null && summary.std !== null ? [summary.mean - summary.std, summary.mean + summary.std] : null;
  const values = [0.5, ...summary.pathAuc, ...(band ?? [])];
  const { domain, ticks } = niceDomain(Math.min(...values), Math.max(...values));
  const scaleY = (auc: number) => plot.bottom - ((auc - domain[0]) / (domain[1] - domain[0] || 1)) * (plot.bottom - plot.top);
  const n = summary.pathAuc.length;
  const slot = n > 0 ? (plot.right - plot.left) / n : 0;
  const barWidth = Math.min(48, slot * 0.7);
  const chance = scaleY(0.5);
  const bars = summary.pathAuc.map((auc, index) => {
    const top = Math.min(chance, scaleY(auc));
    return {
      path: index + 1,
      auc,
      x: plot.left + slot * index + (slot - barWidth) / 2,
      width: barWidth,
      y: top,
      height: Math.max(0.5, Math.abs(scaleY(auc) - chance)),
      aboveChance: auc >= 0.5,
    };
  });
  return { width, height, plot, domain, ticks, scaleY, bars, mean: summary.mean, band };
}
