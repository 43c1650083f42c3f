/**
 * Moving averages for chart overlays, computed in the browser from the bars on screen (the UI labels them
 * so). Output is aligned with the input: null where the window is not yet full.
 */

function checkPeriod(period: number): void {
  if (!Number.isInteger(period) || period < 1) {
    throw new RangeError(`period must be a positive integer, got ${period}`);
  }
}

/** Simple moving average: the mean of the last `period` values. */
export function sma(values: readonly number[], period: number): (number | null)[] {
  checkPeriod(period);
  const out: (number | null)[] = new Array<number | null>(values.length).fill(null);
  let windowSum = 0;
  for (let i = 0; i < values.length; i++) {
    windowSum += values[i]!;
    if (i >= period) {
      windowSum -= values[i - period]!;
    }
    if (i >= period - 1) {
      out[i] = windowSum / period;
    }
  }
  return out;
}

/**
 * Exponential moving average with alpha = 2 / (period + 1), seeded with the SMA of the first `period`
 * values (TA-Lib's convention), so the first value appears at index period - 1.
 */
export function ema(values: readonly number[], period: number): (number | null)[] {
  checkPeriod(period);
  const out: (number | null)[] = new Array<number | null>(values.length).fill(null);
  if (values.length < period) {
    return out;
  }
  const alpha = 2 / (period + 1);
  let previous = 0;
  for (let i = 0; i < period; i++) {
    previous += values[i]!;
  }
  previous /= period;
  out[period - 1] = previous;
  for (let i = period; i < values.length; i++) {
    previous = alpha * values[i]! + (1 - alpha) * previous;
    out[i] = previous;
  }
  return out;
}

export type OverlayKind = "SMA" | "EMA";

export interface OverlaySpec {
  kind: OverlayKind;
  period: number;
  color: string;
}

export function computeOverlay(kind: OverlayKind, closes: readonly number[], period: number): (number | null)[] {
  return kind === "SMA" ? sma(closes, period) : ema(closes, period);
}
