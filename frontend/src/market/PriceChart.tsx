import {
  CandlestickSeries,
  ColorType,
  createChart,
  HistogramSeries,
  LineSeries,
  type IChartApi,
  type ISeriesApi,
  type SeriesType,
  TickMarkType,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";
import { useEffect, useRef } from "react";

import type { ChartBar } from "./bars";

export interface OverlayLine {
  label: string;
  color: string;
  /** Aligned with the bars; null during the warm-up window. */
  values: (number | null)[];
}

interface PriceChartProps {
  bars: ChartBar[];
  /** False for close-only series: a close line is drawn instead of candles. */
  ohlc: boolean;
  showVolume: boolean;
  intraday: boolean;
  overlays: OverlayLine[];
}

const UP = "#26a69a";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Axis labels in UTC that always say which month a day belongs to ("Nov 12", not a bare "12"). */
export function tickMark(time: Time, type: TickMarkType): string {
  const date = new Date((time as number) * 1000);
  const month = MONTHS[date.getUTCMonth()];
  const hhmm = date.toISOString().slice(11, 16);
  switch (type) {
    case TickMarkType.Year:
      return String(date.getUTCFullYear());
    case TickMarkType.Month:
      return `${month}`;
    case TickMarkType.DayOfMonth:
      return `${month} ${date.getUTCDate()}`;
    default:
      return hhmm;
  }
}
const DOWN = "#ef5350";

/** Candles (or a close line), optional volume pane, and overlay lines; rebuilt when the data changes. */
export function PriceChart({ bars, ohlc, showVolume, intraday, overlays }: PriceChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const chartRef = useRef<IChartApi | null>(null);

  useEffect(() => {
    if (!container.current) {
      return undefined;
    }
    const chart = createChart(container.current, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: "#0f141b" },
        textColor: "#9aa7b6",
        fontSize: 11,
        panes: { separatorColor: "#243042" },
        attributionLogo: false,
      },
      grid: { vertLines: { color: "#18212c" }, horzLines: { color: "#18212c" } },
      rightPriceScale: { borderColor: "#243042" },
      timeScale: {
        borderColor: "#243042",
        timeVisible: intraday,
        secondsVisible: false,
        tickMarkFormatter: tickMark,
      },
      crosshair: { mode: 0 },
    });
    chartRef.current = chart;
    return () => {
      chartRef.current = null;
      chart.remove();
    };
  }, [intraday]);

  useEffect(() => {
    const chart = chartRef.current;
    if (!chart) {
      return undefined;
    }
    const time = (bar: ChartBar) => bar.time as UTCTimestamp;
    const series: ISeriesApi<SeriesType>[] = [];
    if (ohlc) {
      const candles = chart.addSeries(CandlestickSeries, {
        upColor: UP,
        downColor: DOWN,
        borderVisible: false,
        wickUpColor: UP,
        wickDownColor: DOWN,
      });
      candles.setData(
        bars.map((bar) => ({
          time: time(bar),
          open: bar.open ?? bar.close,
          high: bar.high ?? bar.close,
          low: bar.low ?? bar.close,
          close: bar.close,
        })),
      );
      series.push(candles);
    } else {
      const line = chart.addSeries(LineSeries, { color: "#60a5fa", lineWidth: 2, title: "close" });
      line.setData(bars.map((bar) => ({ time: time(bar), value: bar.close })));
      series.push(line);
    }
    for (const overlay of overlays) {
      const line = chart.addSeries(LineSeries, {
        color: overlay.color,
        lineWidth: 1,
        title: overlay.label,
        priceLineVisible: false,
        lastValueVisible: false,
        crosshairMarkerVisible: false,
      });
      line.setData(
        bars.flatMap((bar, index) => {
          const value = overlay.values[index];
          return value === null || value === undefined ? [] : [{ time: time(bar), value }];
        }),
      );
      series.push(line);
    }
    if (showVolume) {
      const volume = chart.addSeries(
        HistogramSeries,
        { priceFormat: { type: "volume" }, title: "volume", priceLineVisible: false, lastValueVisible: false },
        1,
      );
      volume.setData(
        bars
          .filter((bar) => bar.volume !== null)
          .map((bar) => ({
            time: time(bar),
            value: bar.volume ?? 0,
            color: bar.open === null || bar.close >= bar.open ? `${UP}99` : `${DOWN}99`,
          })),
      );
      chart.panes()[0]?.setStretchFactor(3);
      chart.panes()[1]?.setStretchFactor(1);
      series.push(volume);
    }
    chart.timeScale().fitContent();
    return () => {
      // On unmount the chart effect's cleanup has already removed the whole chart.
      if (chartRef.current === chart) {
        for (const item of series) {
          chart.removeSeries(item);
        }
      }
    };
  }, [bars, ohlc, showVolume, overlays, intraday]);

  return <div className="chart" ref={container} data-testid="price-chart" />;
}
