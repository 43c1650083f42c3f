import { aucChartGeometry, type CpcvSummary } from "./cpcv";

const fixed = (value: number | null, digits = 3) => (value === null ? "—" : value.toFixed(digits));

/** AUC per backtest path as bars from chance (0.5), with the mean and its +-1 std band (SVG, like the other
 * small charts: .svg-chart). */
export function CpcvChart({ summary }: { summary: CpcvSummary }) {
  const g = aucChartGeometry(summary);
  const labelled = g.bars.length <= 16;
  return (
    <figure className="svg-figure">
      <svg viewBox={`0 0 ${g.width} ${g.height}`} className="svg-chart" data-testid="cpcv-chart" role="img" aria-label={`AUC of ${g.bars.length} backtest paths`}>
        {g.band && (
          <rect
            x={g.plot.left}
            width={g.plot.right - g.plot.left}
            y={g.scaleY(g.band[1])}
            height={Math.max(0.5, g.scaleY(g.band[0]) - g.scaleY(g.band[1]))}
            className="cpcv-band"
          >
            <title>{`mean ± 1 std: ${g.band[0].toFixed(3)} – ${g.band[1].toFixed(3)}`}</title>
          </rect>
        )}
        {g.ticks.map((tick) => (
          <g key={tick}>
            <line x1={g.plot.left} x2={g.plot.right} y1={g.scaleY(tick)} y2={g.scaleY(tick)} className={tick === 0.5 ? "axis" : "grid"} />
            <text x={g.plot.left - 6} y={g.scaleY(tick)} className="tick" textAnchor="end" dominantBaseline="middle">
              {tick.toFixed(2)}
            </text>
          </g>
        ))}
        {g.bars.map((bar) => (
          <g key={bar.path} data-testid="cpcv-path" data-auc={bar.auc}>
            <rect x={bar.x} y={bar.y} width={bar.width} height={bar.height} className={bar.aboveChance ? "cpcv-bar" : "cpcv-bar below"}>
              <title>{`path ${bar.path}: AUC ${bar.auc.toFixed(4)}`}</title>
            </rect>
            {labelled && (
              <text
                x={bar.x + bar.width / 2}
                y={bar.aboveChance ? bar.y - 4 : bar.y + bar.height + 11}
                className="tick cpcv-value"
                textAnchor="middle"
              >
                {bar.auc.toFixed(3)}
              </text>
            )}
            <text x={bar.x + bar.width / 2} y={g.height - 8} className="tick" textAnchor="middle">
              {labelled ? `path ${bar.path}` : bar.path}
            </text>
          </g>
        ))}
        {g.mean !== null && (
          <line x1={g.plot.left} x2={g.plot.right} y1={g.scaleY(g.mean)} y2={g.scaleY(g.mean)} className="cpcv-mean">
            <title>{`mean AUC ${g.mean.toFixed(4)}`}</title>
          </line>
        )}
      </svg>
      <figcaption className="legend">
        <span>
          <i className="cpcv-key-bar" /> AUC per path (from 0.5 = chance)
        </span>
        <span>
          <i className="cpcv-key-mean" /> mean
        </span>
        <span>
          <i className="cpcv-key-band" /> ± 1 std
        </span>
      </figcaption>
    </figure>
  );
}

/** The combinatorial purged CV section of a model: the chart and its numbers, or why there is none. */
export function CpcvSection({ summary }: { summary: CpcvSummary | null }) {
  if (summary === null) {
    return (
      <p className="muted small" data-testid="cpcv-off">
        Combinatorial purged CV was off for this run (switch it on in the training form to get an AUC per backtest path).
      </p>
    );
  }
  return (
    <div data-testid="cpcv">
      {summary.pathAuc.length > 0 ? (
        <CpcvChart summary={summary} />
      ) : (
        <p className="muted small" data-testid="cpcv-no-auc">
          No AUC per path: the training labels hold a single class.
        </p>
      )}
      <dl className="facts small cpcv-facts">
        <dt>AUC mean ± std</dt>
        <dd className="mono" data-testid="cpcv-mean">
          {fixed(summary.mean)} ± {fixed(summary.std)}
        </dd>
        <dt>min / max</dt>
        <dd className="mono">
          {fixed(summary.min)} / {fixed(summary.max)}
        </dd>
        <dt>paths / splits</dt>
        <dd className="mono" data-testid="cpcv-paths">
          {summary.paths ?? "—"} / {summary.splits ?? "—"}
        </dd>
        <dt>groups N, test k</dt>
        <dd className="mono">
          {summary.groups ?? "—"}, {summary.testGroups ?? "—"}
        </dd>
        <dt>samples</dt>
        <dd className="mono">{summary.rows ?? "—"}</dd>
        <dt>embargo</dt>
        <dd className="mono">{summary.embargoPct === null ? "—" : `${(100 * summary.embargoPct).toFixed(1)}%`}</dd>
      </dl>
    </div>
  );
}
