import { describe, expect, it } from "vitest";

import {
  availableIntervals,
  barsQuery,
  defaultRange,
  fetchAllBars,
  hasFullOhlc,
  rangeProblem,
  resolveSelection,
  selectionFromSearch,
  selectionToSearch,
  switchInterval,
  toChartBars,
  type Bar,
  type BarsPage,
  type MarketSymbol,
} from "./bars";

const SP500: MarketSymbol = {
  symbol: "SP500",
  name: "S&P 500 index",
  asset_class: "index",
  source: "arch",
  synthetic: false,
  datasets: { bars_1d: { bars: 5031, first: "1999-01-04T00:00:00.000Z", last: "2018-12-31T00:00:00.000Z" } },
  has_ohlc: true,
  has_volume: true,
};

const SYNTHETIC: MarketSymbol = {
  ...SP500,
  symbol: "SYN.A",
  synthetic: true,
  datasets: { bars_1m: { bars: 600, first: "2026-01-05T14:30:00Z", last: "2026-01-06T21:00:00Z" } },
};

function bar(ts: string, close: number | null, extra: Partial<Bar> = {}): Bar {
  return { ts, open: close, high: close, low: close, close, volume: 10, vwap: null, trades: null, adj_close: null, ...extra };
}

describe("intervals and ranges", () => {
  it("offers intraday intervals only for symbols with 1-minute bars", () => {
    expect(availableIntervals(SP500)).toEqual(["1d", "1w", "1mo"]);
    expect(availableIntervals(SYNTHETIC)).toEqual(["1m", "5m", "15m", "1h"]);
  });

  it("defaults to two years of daily bars ending at the last bar", () => {
    expect(defaultRange(SP500, "1d")).toEqual({ start: "2016-12-31", end: "2018-12-31" });
  });

  it("clamps the default range to the first bar", () => {
    expect(defaultRange(SP500, "1mo")).toEqual({ start: "1999-01-04", end: "2018-12-31" });
    expect(defaultRange(SYNTHETIC, "1h")).toEqual({ start: "2026-01-05", end: "2026-01-06" });
  });

  it("explains a range that cannot be queried", () => {
    expect(rangeProblem({ start: "2018-02-30", end: "2018-03-01" })).toBe("Dates must be YYYY-MM-DD");
    expect(rangeProblem({ start: "2018-03-02", end: "2018-03-01" })).toBe("The start date is after the end date");
    expect(rangeProblem({ start: "2018-03-01", end: "2018-03-01" })).toBeNull();
  });
});

describe("selection in the URL", () => {
  it("round-trips through the query string and ignores invalid values", () => {
    const selection = { symbol: "SP500", interval: "1w", start: "2010-01-01", end: "2011-01-01" };
    expect(selectionFromSearch(selectionToSearch(selection))).toEqual(selection);
    expect(selectionFromSearch(new URLSearchParams("symbol=SP500&interval=2d&start=yesterday"))).toEqual({
      symbol: "SP500",
      interval: null,
      start: null,
      end: null,
    });
  });

  it("fills an open URL from the symbol's coverage", () => {
    const resolved = resolveSelection({ symbol: null, interval: null, start: null, end: null }, SP500);
    expect(resolved).toEqual({ symbol: "SP500", interval: "1d", range: { start: "2016-12-31", end: "2018-12-31" } });
  });

  it("replaces an interval the symbol has no data for", () => {
    const resolved = resolveSelection({ symbol: "SYN.A", interval: "1d", start: null, end: null }, SYNTHETIC);
    expect(resolved?.interval).toBe("1m");
  });

  it("keeps the user's range when switching within a dataset family, resets it across families", () => {
    const current = { symbol: "SP500", interval: "1d", start: "2005-01-01", end: "2006-01-01" };
    expect(switchInterval(SP500, current, "1w")).toEqual({ ...current, interval: "1w" });
    expect(switchInterval(SYNTHETIC, { ...current, symbol: "SYN.A" }, "5m")).toEqual({
      symbol: "SYN.A",
      interval: "5m",
      start: null,
      end: null,
    });
  });
});

describe("barsQuery", () => {
  const range = { start: "2018-01-01", end: "2018-12-31" };

  it("asks for a page of JSON bars, following next_token", () => {
    expect(barsQuery("SP500", "1d", range)).toEqual({ symbol: "SP500", interval: "1d", start: "2018-01-01", end: "2018-12-31", limit: 1000 });
    expect(barsQuery("SP500", "1d", range, { nextToken: "abc" }).next_token).toBe("abc");
  });

  it("asks for the largest file page when a format is given", () => {
    expect(barsQuery("SP500", "1w", range, { format: "parquet" })).toEqual({
      symbol: "SP500",
      interval: "1w",
      start: "2018-01-01",
      end: "2018-12-31",
      format: "parquet",
      limit: 50_000,
    });
  });
});

describe("fetchAllBars", () => {
  function page(bars: Bar[], nextToken: string | null): BarsPage {
    return { symbol: "SP500", interval: "1d", synthetic: false, count: bars.length, next_token: nextToken, bars };
  }

  it("follows next_token until the last page", async () => {
    // Given an API with two pages
    const tokens: (string | null)[] = [];
    const pages: Record<string, BarsPage> = {
      first: page([bar("2018-01-02T00:00:00Z", 1)], "p2"),
      p2: page([bar("2018-01-03T00:00:00Z", 2)], null),
    };
    // When every bar is fetched
    const series = await fetchAllBars(async (token) => {
      tokens.push(token);
      return pages[token ?? "first"]!;
    });
    // Then both pages were read in order and nothing is truncated
    expect(tokens).toEqual([null, "p2"]);
    expect(series.bars.map((item) => item.close)).toEqual([1, 2]);
    expect(series.truncated).toBe(false);
  });

  it("stops after maxPages and says the series is truncated", async () => {
    let calls = 0;
    const series = await fetchAllBars(async () => {
      calls += 1;
      return page([bar(`2018-01-0${calls}T00:00:00Z`, calls)], `p${calls + 1}`);
    }, 3);
    expect(calls).toBe(3);
    expect(series.truncated).toBe(true);
  });
});

describe("toChartBars", () => {
  it("sorts by time, keeps the later of duplicate timestamps, drops bars without a close", () => {
    const rows = toChartBars([
      bar("2018-01-03T00:00:00Z", 3),
      bar("2018-01-02T00:00:00Z", 2),
      bar("2018-01-03T00:00:00.000Z", 4),
      bar("2018-01-04T00:00:00Z", null),
      bar("not a time", 5),
    ]);
    expect(rows.map((row) => [row.time, row.close])).toEqual([
      [Date.UTC(2018, 0, 2) / 1000, 2],
      [Date.UTC(2018, 0, 3) / 1000, 4],
    ]);
  });

  it("tells close-only series apart from OHLC ones", () => {
    const closeOnly = toChartBars([bar("2018-01-02T00:00:00Z", 2, { open: null, high: null, low: null, volume: null })]);
    expect(hasFullOhlc(closeOnly)).toBe(false);
    expect(closeOnly[0]?.volume).toBeNull();
    expect(hasFullOhlc(toChartBars([bar("2018-01-02T00:00:00Z", 2)]))).toBe(true);
  });
});
