/** The monthly returns heat map: its colour scale and the yearly totals. */
import type { MonthlyReturns } from "./types";

export const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const GAIN = [38, 166, 154]; // --good
const LOSS = [239, 83, 80]; // --bad
const MIN_ALPHA = 0.1;
const MAX_ALPHA = 0.9;
/** A scale never narrower than ±1 %, so a quiet strategy is not painted as extreme. */
const MIN_LIMIT = 0.01;

/**
 * The return that gets the strongest colour: the 95th percentile of the absolute monthly returns, so one
 * crash month does not wash out every other cell (beyond it colours saturate).
 */
export function colourLimit(table: readonly (readonly (number | null)[])[]): number {
  const sizes = table
    .flat()
    .filter((value): value is number => value !== null && Number.isFinite(value))
    .map(Math.abs)
    .sort((a, b) => a - b);
  if (sizes.length === 0) {
    return MIN_LIMIT;
  }
  const index = Math.min(sizes.length - 1, Math.ceil(0.95 * sizes.length) - 1);
  return Math.max(MIN_LIMIT, sizes[index]!);
}

/** Green for gains, red for losses, stronger with size up to ±limit; no colour for a month without data. */
export function heatColour(value: number | null, limit: number): string {
  if (value === null || !Number.isFinite(value)) {
    return "transparent";
  }
  if (value === 0) {
    return "rgba(131, 145, 162, 0.08)";
  }
  const strength = Math.min(1, Math.abs(value) / limit);
  const alpha = MIN_ALPHA + (MAX_ALPHA - MIN_ALPHA) * strength;
  const [r, g, b] = value > 0 ? GAIN : LOSS;
  return `rgba(${r}, ${g}, ${b}, ${alpha.toFixed(3)})`;
}

/** A year's return: its months compounded; null when no month has data. */
export function compoundReturn(months: readonly (number | null)[]): number | null {
  const known = months.filter((value): value is number => value !== null && Number.isFinite(value));
  return known.length === 0 ? null : known.reduce((total, value) => total * (1 + value), 1) - 1;
}

export interface HeatRow {
  year: number;
  months: (number | null)[];
  total: number | null;
}

/** Rows newest year first (as tearsheets list them), each padded to 12 months, with its total. */
export function heatRows(monthly: MonthlyReturns): HeatRow[] {
  return monthly.years
    .map((year, index) => {
      const row = monthly.table[index] ?? [];
      const months = Array.from({ length: 12 }, (_, month) => row[month] ?? null);
      return { year, months, total: compoundReturn(months) };
    })
    .reverse();
}

/** A return in percent with one decimal, for a cell ("-0.0" for a tiny loss reads as noise: "0.0"). */
export function cellText(value: number | null): string {
  if (value === null || !Number.isFinite(value)) {
    return "";
  }
  const text = (value * 100).toFixed(1);
  return text === "-0.0" ? "0.0" : text;
}
