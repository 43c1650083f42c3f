import { useState, type ReactNode } from "react";

import { Panel } from "../ui/components";
import { formatInteger } from "../ui/format";
import { EquityChart } from "./EquityChart";
import { money, num, pct, signedPct, tone } from "./format";
import { MonthlyHeatmap } from "./MonthlyHeatmap";
import type { BacktestResult, Trade } from "./types";

interface Card {
  label: string;
  value: string;
  tone?: "up" | "down" | "";
  hint?: string;
}

function cards(result: BacktestResult): Card[] {
  const m = result.metrics;
  const t = result.trade_stats;
  return [
    { label: "Total return", value: signedPct(m.total_return), tone: tone(m.total_return) },
    { label: "CAGR", value: signedPct(m.annualized_return), tone: tone(m.annualized_return), hint: "annualized return" },
    { label: "Volatility", value: pct(m.annualized_volatility), hint: "annualized" },
    { label: "Sharpe", value: num(m.sharpe), tone: tone(m.sharpe), hint: "annualized, risk-free rate 0" },
    { label: "Sortino", value: num(m.sortino), tone: tone(m.sortino) },
    { label: "Calmar", value: num(m.calmar), hint: "CAGR / |max drawdown|" },
    { label: "Max drawdown", value: pct(m.max_drawdown), tone: tone(m.max_drawdown) },
    { label: "Max DD length", value: `${formatInteger(m.max_drawdown_duration)} bars`, hint: "bars from peak to recovery (or the end)" },
    { label: "Exposure", value: pct(m.exposure, 1), hint: "share of bars with a position" },
    { label: "PSR", value: pct(m.probabilistic_sharpe, 1), hint: "probabilistic Sharpe ratio: P(true Sharpe > 0)" },
    { label: "Final equity", value: money(m.final_equity) },
    { label: "Trades", value: formatInteger(t.n_trades) },
    { label: "Hit rate", value: pct(t.hit_rate, 1) },
    { label: "Profit factor", value: num(t.profit_factor), hint: "gross profit / gross loss" },
    { label: "Expectancy", value: money(t.expectancy), tone: tone(t.expectancy), hint: "mean P&L per trade" },
    { label: "Avg win", value: money(t.average_win), tone: tone(t.average_win) },
    { label: "Avg loss", value: money(t.average_loss), tone: tone(t.average_loss) },
  ];
}

function MetricCards({ result }: { result: BacktestResult }) {
  return (
    <div className="metric-cards" data-testid="metric-cards">
      {cards(result).map((card) => (
        <div key={card.label} className="metric-card" title={card.hint}>
          <span className="metric-label">{card.label}</span>
          <span className={`metric-value ${card.tone ?? ""}`}>{card.value}</span>
        </div>
      ))}
    </div>
  );
}

const PAGE_SIZE = 20;

function TradesTable({ trades, total }: { trades: Trade[]; total: number }) {
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(trades.length / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const shown = trades.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE);
  const from = trades.length === 0 ? 0 : current * PAGE_SIZE + 1;
  const pager = (
    <div className="pager">
      <span className="muted small" data-testid="trades-range">
        {formatInteger(from)}–{formatInteger(current * PAGE_SIZE + shown.length)} of {formatInteger(trades.length)}
        {total > trades.length && ` (the API lists the first ${formatInteger(trades.length)} of ${formatInteger(total)})`}
      </span>
      <button type="button" className="btn btn-small" disabled={current === 0} onClick={() => setPage(current - 1)}>
        ‹ Prev
      </button>
      <button type="button" className="btn btn-small" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
        Next ›
      </button>
    </div>
  );
  return (
    <Panel title={`Trades (${formatInteger(total)})`} actions={pager} className="trades-panel">
      {trades.length === 0 ? (
        <p className="muted">No closed trades.</p>
      ) : (
        <table className="table table-numeric" data-testid="trades-table">
          <thead>
            <tr>
              <th>Symbol</th>
              <th>Side</th>
              <th>Entry</th>
              <th>Exit</th>
              <th className="num">Size</th>
              <th className="num">Entry px</th>
              <th className="num">Exit px</th>
              <th className="num">Fees</th>
              <th className="num">P&amp;L</th>
              <th className="num">Return</th>
              <th>Exit by</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((trade, index) => (
              <tr key={`${current}-${index}`}>
                <td>{trade.symbol}</td>
                <td>{trade.direction}</td>
                <td className="nowrap">{trade.entry}</td>
                <td className="nowrap">{trade.exit}</td>
                <td className="num">{num(trade.size, 2)}</td>
                <td className="num">{num(trade.entry_price)}</td>
                <td className="num">{num(trade.exit_price)}</td>
                <td className="num">{num(trade.fees, 2)}</td>
                <td className={`num ${tone(trade.pnl)}`}>{num(trade.pnl, 2)}</td>
                <td className={`num ${tone(trade.return)}`}>{signedPct(trade.return)}</td>
                <td>{trade.exit_reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

/** A backtest's tearsheet: headline metrics, equity/drawdown/rolling Sharpe, monthly returns, trades. */
export function Tearsheet({ result, heading }: { result: BacktestResult; heading: ReactNode }) {
  const series = result.series;
  return (
    <div className="tearsheet" data-testid="tearsheet">
      <div className="tearsheet-heading">{heading}</div>
      <MetricCards result={result} />
      <Panel
        title="Equity · drawdown · rolling Sharpe"
        actions={
          <span className="muted small">
            {formatInteger(series.dates.length)} bars · {series.dates[0]} → {series.dates[series.dates.length - 1]}
          </span>
        }
      >
        <EquityChart
          dates={series.dates}
          equity={series.equity}
          drawdown={series.drawdown}
          rollingSharpe={series.rolling_sharpe}
        />
        {!series.rolling_sharpe && <p className="muted small">Too few bars for a rolling Sharpe ratio.</p>}
      </Panel>
      <Panel title="Monthly returns (%)">
        <MonthlyHeatmap monthly={result.monthly_returns} />
      </Panel>
      <TradesTable key={result.id} trades={result.trades} total={result.trades_total} />
    </div>
  );
}
