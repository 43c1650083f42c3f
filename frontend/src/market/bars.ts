/** Market page logic without React: intervals, date ranges, the bars query, paging, chart data. */
import type { JsonOk } from "../api/client";

export type SymbolsResponse = JsonOk<"/v1/marketdata/symbols">;
export type MarketSymbol = SymbolsResponse["symbols"][number];
export type BarsPage = JsonOk<"/v1/marketdata/bars">;
export type Bar = BarsPage["bars"][number];
export type Interval = BarsPage["interval"];
export type QuoteResponse = JsonOk<"/v1/marketdata/quotes/{symbol}">;

type DatasetKey = "bars_1d" | "bars_1m";

interface IntervalInfo {
  value: Interval;
  label: string;
  /** The stored dataset the API aggregates this interval from. */
  dataset: DatasetKey;
  /** How far back the default date range reaches, in days. */
  defaultLookbackDays: number;
}

export const INTERVALS: readonly IntervalInfo[] = [
  { value: "1m", label: "1m", dataset: "bars_1m", defaultLookbackDays: 2 },
  { value: "5m", label: "5m", dataset: "bars_1m", defaultLookbackDays: 7 },
  { value: "15m", label: "15m", dataset: "bars_1m", defaultLookbackDays: 14 },
  { value: "1h", label: "1h", dataset: "bars_1m", defaultLookbackDays: 45 },
  { value: "1d", label: "1D", dataset: "bars_1d", defaultLookbackDays: 730 },
  { value: "1w", label: "1W", dataset: "bars_1d", defaultLookbackDays: 3650 },
  { value: "1mo", label: "1M", dataset: "bars_1d", defaultLookbackDays: 36500 },
];

export function intervalInfo(interval: Interval): IntervalInfo {
  const info = INTERVALS.find((candidate) => candidate.value === interval);
  if (!info) {
    throw new RangeError(`unknown interval ${interval}`);
  }
  return info;
}

export function isInterval(value: string): value is Interval {
  return INTERVALS.some((candidate) => candidate.value === value);
}

/** Intervals the symbol has data for (intraday ones need 1-minute bars, the others daily bars). */
export function availableIntervals(symbol: MarketSymbol): Interval[] {
  return INTERVALS.filter((info) => symbol.datasets[info.dataset] != null).map((info) => info.value);
}

export function defaultInterval(symbol: MarketSymbol): Interval | null {
  const available = availableIntervals(symbol);
  return available.includes("1d") ? "1d" : (available[0] ?? null);
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoDate(value: string): boolean {
  if (!ISO_DATE.test(value)) {
    return false;
  }
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

function shiftDays(isoDate: string, days: number): string {
  const time = Date.parse(`${isoDate}T00:00:00Z`) + days * 86_400_000;
  return new Date(time).toISOString().slice(0, 10);
}

export interface DateRange {
  start: string;
  end: string;
}

/** The default window: the interval's lookback ending at the dataset's last bar, within its coverage. */
export function defaultRange(symbol: MarketSymbol, interval: Interval): DateRange | null {
  const coverage = symbol.datasets[intervalInfo(interval).dataset];
  if (!coverage) {
    return null;
  }
  const first = coverage.first.slice(0, 10);
  const end = coverage.last.slice(0, 10);
  const start = shiftDays(end, -intervalInfo(interval).defaultLookbackDays);
  return { start: start < first ? first : start, end };
}

/** Why the range cannot be queried, or null when it can. */
export function rangeProblem(range: DateRange): string | null {
  if (!isIsoDate(range.start) || !isIsoDate(range.end)) {
    return "Dates must be YYYY-MM-DD";
  }
  return range.start > range.end ? "The start date is after the end date" : null;
}

/** What the Market page shows, kept in the URL (?symbol=SP500&interval=1d&start=...&end=...). */
export interface MarketSelection {
  symbol: string | null;
  interval: Interval | null;
  start: string | null;
  end: string | null;
}

export function selectionFromSearch(search: URLSearchParams): MarketSelection {
  const interval = search.get("interval");
  const start = search.get("start");
  const end = search.get("end");
  return {
    symbol: search.get("symbol") || null,
    interval: interval && isInterval(interval) ? interval : null,
    start: start && isIsoDate(start) ? start : null,
    end: end && isIsoDate(end) ? end : null,
  };
}

export function selectionToSearch(selection: MarketSelection): URLSearchParams {
  const search = new URLSearchParams();
  for (const key of ["symbol", "interval", "start", "end"] as const) {
    const value = selection[key];
    if (value) {
      search.set(key, value);
    }
  }
  return search;
}

/**
 * Fills in what the URL left open from the symbol's coverage: an interval it has data for and the
 * default range for that interval. Returns null when the symbol has no bars at all.
 */
export function resolveSelection(
  selection: MarketSelection,
  symbol: MarketSymbol,
): { symbol: string; interval: Interval; range: DateRange } | null {
  const available = availableIntervals(symbol);
  const interval =
    selection.interval && available.includes(selection.interval) ? selection.interval : defaultInterval(symbol);
  if (!interval) {
    return null;
  }
  const fallback = defaultRange(symbol, interval);
  if (!fallback) {
    return null;
  }
  return {
    symbol: symbol.symbol,
    interval,
    range: { start: selection.start ?? fallback.start, end: selection.end ?? fallback.end },
  };
}

/** The selection after the user picks another interval: a range of the other dataset family is reset. */
export function switchInterval(symbol: MarketSymbol, current: MarketSelection, next: Interval): MarketSelection {
  const previous = current.interval ? intervalInfo(current.interval).dataset : null;
  if (previous === intervalInfo(next).dataset) {
    return { ...current, interval: next };
  }
  return { ...current, interval: next, start: null, end: null, symbol: symbol.symbol };
}

export const PAGE_LIMIT = 1000;
/** The API's largest CSV/Parquet page: a download holds at most this many bars. */
export const FILE_LIMIT = 50_000;
/** At most this many pages per chart (20,000 bars): beyond that the chart says it is truncated. */
export const MAX_PAGES = 20;

export type BarsQuery = {
  symbol: string;
  interval: Interval;
  start: string;
  end: string;
  limit?: number;
  next_token?: string;
  format?: "json" | "csv" | "parquet";
};

export function barsQuery(
  symbol: string,
  interval: Interval,
  range: DateRange,
  options: { nextToken?: string | null; limit?: number; format?: "csv" | "parquet" } = {},
): BarsQuery {
  const query: BarsQuery = { symbol, interval, start: range.start, end: range.end };
  if (options.format) {
    query.format = options.format;
  }
  query.limit = options.limit ?? (options.format ? FILE_LIMIT : PAGE_LIMIT);
  if (options.nextToken) {
    query.next_token = options.nextToken;
  }
  return query;
}

export interface BarSeries {
  symbol: string;
  interval: Interval;
  synthetic: boolean;
  bars: Bar[];
  /** True when MAX_PAGES pages were read and the API still had more. */
  truncated: boolean;
}

/** Reads pages (following next_token) until the API has no more or maxPages were read. */
export async function fetchAllBars(
  fetchPage: (nextToken: string | null) => Promise<BarsPage>,
  maxPages: number = MAX_PAGES,
): Promise<BarSeries> {
  const bars: Bar[] = [];
  let nextToken: string | null = null;
  let first: BarsPage | null = null;
  for (let page = 0; page < maxPages; page++) {
    const answer: BarsPage = await fetchPage(nextToken);
    first ??= answer;
    bars.push(...answer.bars);
    nextToken = answer.next_token ?? null;
    if (!nextToken) {
      break;
    }
  }
  if (!first) {
    throw new RangeError("maxPages must be at least 1");
  }
  return {
    symbol: first.symbol,
    interval: first.interval,
    synthetic: first.synthetic,
    bars,
    truncated: nextToken !== null,
  };
}

export interface ChartBar {
  /** Seconds since the epoch, UTC (lightweight-charts' UTCTimestamp). */
  time: number;
  /** Null in close-only series (daily closes of the stocks data set). */
  open: number | null;
  high: number | null;
  low: number | null;
  close: number;
  volume: number | null;
}

/** True when every bar has open, high and low, so candles can be drawn. */
export function hasFullOhlc(bars: readonly ChartBar[]): boolean {
  return bars.every((bar) => bar.open !== null && bar.high !== null && bar.low !== null);
}

/**
 * Chart rows: ascending, one per timestamp (the later duplicate wins); bars without a close or with an
 * unparseable timestamp are dropped.
 */
export function toChartBars(bars: readonly Bar[]): ChartBar[] {
  const byTime = new Map<number, ChartBar>();
  for (const bar of bars) {
    const ms = Date.parse(bar.ts);
    if (Number.isNaN(ms) || bar.close === null || bar.close === undefined) {
      continue;
    }
    const time = Math.floor(ms / 1000);
    byTime.set(time, {
      time,
      open: bar.open ?? null,
      high: bar.high ?? null,
      low: bar.low ?? null,
      close: bar.close,
      volume: bar.volume ?? null,
    });
  }
  return [...byTime.values()].sort((a, b) => a.time - b.time);
}

export function downloadFileName(query: BarsQuery, format: "csv" | "parquet"): string {
  return `${query.symbol}_${query.interval}_${query.start}_${query.end}.${format}`;
}
