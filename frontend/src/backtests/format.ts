/** Number formats and plain-language readings of the research statistics. */

type Maybe = number | null | undefined;

const missing = (value: Maybe): value is null | undefined =>
  value === null || value === undefined || !Number.isFinite(value);

export function pct(value: Maybe, digits = 2): string {
  return missing(value) ? "—" : `${(value * 100).toFixed(digits)}%`;
}

export function signedPct(value: Maybe, digits = 2): string {
  return missing(value) ? "—" : `${value > 0 ? "+" : ""}${(value * 100).toFixed(digits)}%`;
}

export function num(value: Maybe, digits = 2): string {
  return missing(value)
    ? "—"
    : value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function money(value: Maybe): string {
  return missing(value) ? "—" : value.toLocaleString("en-US", { maximumFractionDigits: 0 });
}

/** "up", "down" or "" for a value's colour class. */
export function tone(value: Maybe): "up" | "down" | "" {
  return missing(value) || value === 0 ? "" : value > 0 ? "up" : "down";
}

export type Verdict = { tone: "good" | "warn" | "bad"; label: string; text: string };

/** What a probability of backtest overfitting means for the sweep's winner. */
export function pboVerdict(pbo: number, splits: number): Verdict {
  const share = `${Math.round(pbo * 100)}%`;
  const where = `In ${share} of the ${splits.toLocaleString("en-US")} train/test splits, the configuration that was best in sample ranked in the bottom half out of sample.`;
  if (pbo < 0.1) {
    return { tone: "good", label: "low overfitting", text: `${where} The selection mostly holds up on unseen data.` };
  }
  if (pbo < 0.5) {
    return { tone: "warn", label: "some overfitting", text: `${where} Treat the winner's backtest as optimistic.` };
  }
  return {
    tone: "bad",
    label: "likely overfit",
    text: `${where} Picking the best backtest is no better than picking at random.`,
  };
}

/** What the deflated Sharpe ratio says about the best configuration. */
export function dsrVerdict(dsr: number, trials: number): Verdict {
  const chance = `${Math.round(dsr * 100)}%`;
  const text = `Allowing for ${trials.toLocaleString("en-US")} tried configurations, the probability that the best one's true Sharpe ratio is above zero is ${chance}.`;
  if (dsr >= 0.95) {
    return { tone: "good", label: "significant", text };
  }
  return dsr >= 0.5 ? { tone: "warn", label: "not significant", text } : { tone: "bad", label: "likely luck", text };
}

export type BarTone = "overfit" | "mixed" | "sound";

export interface HistogramBar {
  from: number;
  to: number;
  count: number;
  /** Logits ≤ 0 (the in-sample winner in the bottom half out of sample) count towards PBO. */
  tone: BarTone;
}

/** The logit histogram's bins (edges has one entry more than counts), coloured by the side of zero. */
export function histogramBars(edges: readonly number[], counts: readonly number[]): HistogramBar[] {
  return counts.map((count, index) => {
    const from = edges[index] ?? 0;
    const to = edges[index + 1] ?? from;
    // A bin from exactly 0 holds the logits equal to 0, which count as overfit: it is mixed.
    const side: BarTone = to <= 0 ? "overfit" : from > 0 ? "sound" : "mixed";
    return { from, to, count, tone: side };
  });
}
