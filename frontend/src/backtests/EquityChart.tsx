import { AreaSeries, ColorType, createChart, LineSeries, type UTCTimestamp } from "lightweight-charts";
import { useEffect, useRef } from "react";

import { tickMark } from "../market/PriceChart";

interface EquityChartProps {
  dates: string[];
  equity: number[];
  drawdown: number[];
  rollingSharpe: (number | null)[] | null;
}

function utc(date: string): UTCTimestamp {
  return (Date.parse(`${date}T00:00:00Z`) / 1000) as UTCTimestamp;
}

/** Equity, drawdown and rolling Sharpe in three panes sharing one time axis. */
export function EquityChart({ dates, equity, drawdown, rollingSharpe }: EquityChartProps) {
  const container = useRef<HTMLDivElement>(null);

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
      // Decades of daily bars in a few hundred pixels: allow bars far thinner than the default 0.5 px.
      timeScale: { borderColor: "#243042", tickMarkFormatter: tickMark, minBarSpacing: 0.01 },
      crosshair: { mode: 0 },
    });
    const times = dates.map(utc);
    const points = (values: readonly (number | null)[], scale = 1) =>
      times.flatMap((time, i) => {
        const value = values[i];
        return value === null || value === undefined ? [] : [{ time, value: value * scale }];
      });

    const equityLine = chart.addSeries(AreaSeries, {
      lineColor: "#34d399",
      topColor: "rgba(52, 211, 153, 0.25)",
      bottomColor: "rgba(52, 211, 153, 0.02)",
      lineWidth: 2,
      title: "equity",
      priceFormat: { type: "price", precision: 0, minMove: 1 },
    });
    equityLine.setData(points(equity));

    const drawdownArea = chart.addSeries(
      AreaSeries,
      {
        lineColor: "#ef5350",
        topColor: "rgba(239, 83, 80, 0.05)",
        bottomColor: "rgba(239, 83, 80, 0.35)",
        invertFilledArea: true,
        lineWidth: 1,
        title: "drawdown",
        priceFormat: { type: "percent", precision: 1, minMove: 0.1 },
      },
      1,
    );
    drawdownArea.setData(points(drawdown, 100));

    if (rollingSharpe) {
      const sharpe = chart.addSeries(
        LineSeries,
        { color: "#60a5fa", lineWidth: 1, title: "rolling Sharpe", priceFormat: { type: "price", precision: 2, minMove: 0.01 } },
        2,
      );
      sharpe.setData(points(rollingSharpe));
      sharpe.createPriceLine({ price: 0, color: "#4b5a6d", lineWidth: 1, lineStyle: 2, axisLabelVisible: false, title: "" });
    }
    const panes = chart.panes();
    panes[0]?.setStretchFactor(3);
    panes[1]?.setStretchFactor(1.2);
    panes[2]?.setStretchFactor(1);
    // autoSize measures the container after this effect: fit the whole history once it has a width.
    const fit = () => chart.timeScale().fitContent();
    chart.timeScale().subscribeSizeChange(fit);
    fit();
    return () => {
      chart.timeScale().unsubscribeSizeChange(fit);
      chart.remove();
    };
  }, [dates, equity, drawdown, rollingSharpe]);

  return <div className="chart equity-chart" ref={container} data-testid="equity-chart" />;
}
