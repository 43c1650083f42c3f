import { useMemo } from "react";

import { Panel } from "../ui/components";
import { formatInteger } from "../ui/format";
import { EquityChart } from "./EquityChart";
import { num, pct, signedPct, tone } from "./format";
import { paramText, splitParams } from "./params";
import type { WalkForwardRequest, WalkForwardResult } from "./types";
import { drawdownSeries, foldStats } from "./walkforward";

/** A walk-forward analysis: the stitched out-of-sample curve, its metrics and every fold's choice. */
export function WalkForwardView({ result, request }: { result: WalkForwardResult; request: WalkForwardRequest }) {
  const drawdown = useMemo(() => drawdownSeries(result.oos_series.equity), [result]);
  const stats = foldStats(result.folds);
  const { varying, constant } = splitParams(result.folds.map((fold) => fold.chosen));
  const m = result.oos_metrics;
  const cards = [
    { label: "OOS total return", value: signedPct(m.total_return), tone: tone(m.total_return) },
    { label: "OOS CAGR", value: signedPct(m.annualized_return), tone: tone(m.annualized_return) },
    { label: "OOS Sharpe", value: num(m.sharpe), tone: tone(m.sharpe) },
    { label: "OOS Sortino", value: num(m.sortino), tone: tone(m.sortino) },
    { label: "OOS vol", value: pct(m.annualized_volatility) },
    { label: "OOS max DD", value: pct(m.max_drawdown), tone: tone(m.max_drawdown) },
    { label: "Mean IS Sharpe", value: num(stats.meanInSample), tone: tone(stats.meanInSample) },
    { label: "Mean OOS Sharpe", value: num(stats.meanOutOfSample), tone: tone(stats.meanOutOfSample) },
    { label: "Folds OOS > 0", value: pct(stats.positiveOutOfSample, 0) },
    { label: "Choice changes", value: `${stats.switches} of ${Math.max(0, stats.folds - 1)}` },
  ];
  const dates = result.oos_series.dates;
  return (
    <div className="tearsheet" data-testid="walkforward-view">
      <div className="tearsheet-heading">
        <h1>{request.strategy}</h1>
        <span className="muted">{request.symbols.join(", ")}</span>
        <span className="mono small">
          {request.scheme} · train {formatInteger(request.train_bars)} · test {formatInteger(request.test_bars)}
          {request.gap ? ` · gap ${formatInteger(request.gap)}` : ""} bars
        </span>
        <span className="muted small">
          {formatInteger(result.folds.length)} folds choosing among {formatInteger(result.configs)} configurations by
          in-sample Sharpe
        </span>
      </div>
      <div className="metric-cards" data-testid="walkforward-metrics">
        {cards.map((card) => (
          <div key={card.label} className="metric-card">
            <span className="metric-label">{card.label}</span>
            <span className={`metric-value ${card.tone ?? ""}`}>{card.value}</span>
          </div>
        ))}
      </div>
      <Panel
        title="Out-of-sample equity (stitched test windows) · drawdown"
        actions={
          <span className="muted small">
            {formatInteger(dates.length)} bars · {dates[0]} → {dates[dates.length - 1]}
          </span>
        }
      >
        <EquityChart dates={dates} equity={result.oos_series.equity} drawdown={drawdown} rollingSharpe={null} />
      </Panel>
      <Panel
        title={`Folds (${result.folds.length})`}
        actions={
          constant.length > 0 && (
            <span className="muted small">always {constant.map(([name, value]) => `${name}=${paramText(value)}`).join(", ")}</span>
          )
        }
        className="ranking-panel"
      >
        <table className="table table-numeric" data-testid="walkforward-folds">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>Train</th>
              <th>Test</th>
              {varying.map((name) => (
                <th key={name} className="num">
                  {name}
                </th>
              ))}
              <th className="num" title="Annualized Sharpe ratio of the chosen configuration on the training bars">
                IS Sharpe
              </th>
              <th className="num" title="Annualized Sharpe ratio of the chosen configuration on the test bars">
                OOS Sharpe
              </th>
            </tr>
          </thead>
          <tbody>
            {result.folds.map((fold) => (
              <tr key={fold.index}>
                <td className="num muted">{fold.index + 1}</td>
                <td>
                  {fold.train[0]} → {fold.train[1]}
                </td>
                <td>
                  {fold.test[0]} → {fold.test[1]}
                </td>
                {varying.map((name) => (
                  <td key={name} className="num">
                    {paramText(fold.chosen[name])}
                  </td>
                ))}
                <td className={`num ${tone(fold.in_sample_sharpe)}`}>{num(fold.in_sample_sharpe)}</td>
                <td className={`num ${tone(fold.out_of_sample_sharpe)}`}>{num(fold.out_of_sample_sharpe)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
    </div>
  );
}
