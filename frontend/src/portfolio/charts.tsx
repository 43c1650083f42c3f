/** Small hand-written SVG charts: horizontal bars, a frontier scatter, an eigenvalue spectrum. */

const W = 560;

function percent(value: number, digits = 1): string {
  return `${(100 * value).toFixed(digits)}%`;
}

export interface BarSeries {
  label: string;
  color: string;
  values: Record<string, number>;
}

/** Grouped horizontal bars per symbol (weights next to risk contributions), zero line for shorts. */
export function GroupedBars({ symbols, series, testId }: { symbols: string[]; series: BarSeries[]; testId?: string }) {
  const rowH = 8 * series.length + 8;
  const labelW = 70;
  const valueW = 60;
  const height = symbols.length * rowH + 24;
  const all = series.flatMap((item) => symbols.map((symbol) => item.values[symbol] ?? 0));
  const low = Math.min(0, ...all);
  const high = Math.max(1e-9, ...all);
  const plotW = W - labelW - valueW;
  const x = (value: number) => labelW + ((value - low) / (high - low)) * plotW;
  return (
    <figure className="svg-figure">
      <svg viewBox={`0 0 ${W} ${height}`} className="svg-chart" data-testid={testId} role="img" aria-label="bars">
        <line x1={x(0)} x2={x(0)} y1={0} y2={height - 20} className="axis" />
        {symbols.map((symbol, row) => (
          <g key={symbol} transform={`translate(0, ${row * rowH + 4})`}>
            <text x={labelW - 6} y={rowH / 2} className="tick" textAnchor="end" dominantBaseline="middle">
              {symbol}
            </text>
            {series.map((item, index) => {
              const value = item.values[symbol] ?? 0;
              const x0 = Math.min(x(0), x(value));
              return (
                <g key={item.label}>
                  <rect
                    x={x0}
                    y={index * 8 + 2}
                    width={Math.max(0.5, Math.abs(x(value) - x(0)))}
                    height={7}
                    fill={item.color}
                    data-symbol={symbol}
                    data-series={item.label}
                    data-value={value}
                  >
                    <title>{`${symbol} ${item.label}: ${percent(value, 2)}`}</title>
                  </rect>
                  {index === 0 && (
                    <text x={W - 4} y={rowH / 2} className="tick" textAnchor="end" dominantBaseline="middle">
                      {percent(value)}
                    </text>
                  )}
                </g>
              );
            })}
          </g>
        ))}
      </svg>
      <figcaption className="legend">
        {series.map((item) => (
          <span key={item.label}>
            <i style={{ background: item.color }} /> {item.label}
          </span>
        ))}
        <span className="muted">(value: {series[0]?.label})</span>
      </figcaption>
    </figure>
  );
}

export interface Point {
  x: number;
  y: number;
  label?: string;
}

function niceTicks(low: number, high: number, count = 5): number[] {
  const span = high - low || 1;
  const step = 10 ** Math.floor(Math.log10(span / count));
  const multiple = [1, 2, 5, 10].find((m) => span / (m * step) <= count) ?? 10;
  const size = multiple * step;
  const ticks: number[] = [];
  for (let value = Math.ceil(low / size) * size; value <= high + 1e-12; value += size) {
    ticks.push(Number(value.toFixed(10)));
  }
  return ticks;
}

/** The efficient frontier (volatility → return), the assets, and the chosen portfolio. */
export function FrontierChart({ frontier, assets, chosen }: { frontier: Point[]; assets: Point[]; chosen: Point | null }) {
  const H = 320;
  const pad = { left: 48, right: 16, top: 12, bottom: 32 };
  const points = [...frontier, ...assets, ...(chosen ? [chosen] : [])];
  if (points.length === 0) {
    return null;
  }
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1] = [Math.min(0, ...xs), Math.max(...xs) * 1.08];
  const [yLow, yHigh] = [Math.min(...ys), Math.max(...ys)];
  const margin = (yHigh - yLow) * 0.08 || 0.01;
  const [y0, y1] = [yLow - margin, yHigh + margin];
  const sx = (v: number) => pad.left + ((v - x0) / (x1 - x0 || 1)) * (W - pad.left - pad.right);
  const sy = (v: number) => H - pad.bottom - ((v - y0) / (y1 - y0 || 1)) * (H - pad.top - pad.bottom);
  const sorted = [...frontier].sort((a, b) => a.x - b.x);
  return (
    <svg viewBox={`0 0 ${W} ${H}`} className="svg-chart" data-testid="frontier-chart" role="img" aria-label="efficient frontier">
      {niceTicks(x0, x1).map((tick) => (
        <g key={`x${tick}`}>
          <line x1={sx(tick)} x2={sx(tick)} y1={pad.top} y2={H - pad.bottom} className="grid" />
          <text x={sx(tick)} y={H - pad.bottom + 14} className="tick" textAnchor="middle">
            {percent(tick, 0)}
          </text>
        </g>
      ))}
      {niceTicks(y0, y1).map((tick) => (
        <g key={`y${tick}`}>
          <line x1={pad.left} x2={W - pad.right} y1={sy(tick)} y2={sy(tick)} className="grid" />
          <text x={pad.left - 6} y={sy(tick)} className="tick" textAnchor="end" dominantBaseline="middle">
            {percent(tick, 0)}
          </text>
        </g>
      ))}
      <text x={(W + pad.left) / 2} y={H - 4} className="tick" textAnchor="middle">
        volatility (annual)
      </text>
      <polyline
        points={sorted.map((p) => `${sx(p.x)},${sy(p.y)}`).join(" ")}
        fill="none"
        stroke="#60a5fa"
        strokeWidth={2}
        data-testid="frontier-line"
      />
      {sorted.map((p, index) => (
        <circle key={`f${index}`} cx={sx(p.x)} cy={sy(p.y)} r={2.5} fill="#60a5fa">
          <title>{`σ ${percent(p.x)} · μ ${percent(p.y)}`}</title>
        </circle>
      ))}
      {assets.map((p) => (
        <g key={p.label}>
          <circle cx={sx(p.x)} cy={sy(p.y)} r={3} fill="#8391a2" />
          <text x={sx(p.x) + 5} y={sy(p.y) - 4} className="tick">
            {p.label}
          </text>
        </g>
      ))}
      {chosen && (
        <g data-testid="frontier-chosen">
          <circle cx={sx(chosen.x)} cy={sy(chosen.y)} r={6} fill="none" stroke="#34d399" strokeWidth={2} />
          <text x={sx(chosen.x) + 9} y={sy(chosen.y) + 4} className="tick chosen-label">
            {chosen.label}
          </text>
        </g>
      )}
    </svg>
  );
}

/** A histogram of correlation eigenvalues with the Marchenko-Pastur edges: bars past λ+ are signal. */
export function SpectrumChart({ eigenvalues, lambdaMinus, lambdaPlus }: { eigenvalues: number[]; lambdaMinus: number; lambdaPlus: number }) {
  const H = 240;
  const pad = { left: 36, right: 16, top: 12, bottom: 30 };
  if (eigenvalues.length === 0) {
    return null;
  }
  const high = Math.max(...eigenvalues, lambdaPlus) * 1.05;
  const bins = Math.min(40, Math.max(8, eigenvalues.length * 2));
  const width = high / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const value of eigenvalues) {
    counts[Math.min(bins - 1, Math.floor(value / width))]! += 1;
  }
  const top = Math.max(...counts);
  const sx = (v: number) => pad.left + (v / high) * (W - pad.left - pad.right);
  const sy = (c: number) => H - pad.bottom - (c / top) * (H - pad.top - pad.bottom);
  return (
    <svg viewBox={`0 0 ${W} ${H}`} className="svg-chart" data-testid="spectrum-chart" role="img" aria-label="eigenvalue spectrum">
      <rect x={sx(lambdaMinus)} y={pad.top} width={Math.max(0, sx(lambdaPlus) - sx(lambdaMinus))} height={H - pad.top - pad.bottom} className="mp-band" />
      {counts.map((count, index) =>
        count === 0 ? null : (
          <rect
            key={index}
            x={sx(index * width) + 0.5}
            y={sy(count)}
            width={Math.max(1, sx(width) - sx(0) - 1)}
            height={H - pad.bottom - sy(count)}
            className={index * width >= lambdaPlus ? "bar-signal" : "bar-noise"}
          >
            <title>{`${count} eigenvalue${count === 1 ? "" : "s"} in [${(index * width).toFixed(2)}, ${((index + 1) * width).toFixed(2)})`}</title>
          </rect>
        ),
      )}
      <line x1={sx(lambdaPlus)} x2={sx(lambdaPlus)} y1={pad.top} y2={H - pad.bottom} className="mp-edge" data-testid="mp-edge" />
      <text x={sx(lambdaPlus) + 4} y={pad.top + 10} className="tick">
        λ+ = {lambdaPlus.toFixed(2)}
      </text>
      {niceTicks(0, high).map((tick) => (
        <text key={tick} x={sx(tick)} y={H - pad.bottom + 14} className="tick" textAnchor="middle">
          {tick}
        </text>
      ))}
      <line x1={pad.left} x2={W - pad.right} y1={H - pad.bottom} y2={H - pad.bottom} className="axis" />
      <text x={(W + pad.left) / 2} y={H - 2} className="tick" textAnchor="middle">
        eigenvalue of the correlation matrix
      </text>
    </svg>
  );
}
