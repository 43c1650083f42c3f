import { useApi } from "../auth/AuthContext";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { histogramBars, num, pboVerdict, pct, type BarTone } from "./format";
import type { PboReport } from "./types";

const BAR_COLOURS: Record<BarTone, string> = { overfit: "#ef5350", mixed: "#f59e0b", sound: "#26a69a" };
const WIDTH = 420;
const HEIGHT = 140;
const PAD = { left: 34, right: 8, top: 8, bottom: 22 };

/** The CSCV logits (ln of the winner's out-of-sample relative rank odds); left of zero means overfit. */
function LogitHistogram({ report }: { report: PboReport }) {
  const bars = histogramBars(report.logit_histogram.edges, report.logit_histogram.counts);
  if (bars.length === 0) {
    return <p className="muted">No splits.</p>;
  }
  const low = bars[0]!.from;
  const high = bars[bars.length - 1]!.to;
  const peak = Math.max(1, ...bars.map((bar) => bar.count));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const x = (value: number) => PAD.left + ((value - low) / (high - low || 1)) * plotWidth;
  const y = (count: number) => PAD.top + plotHeight - (count / peak) * plotHeight;
  const zeroInside = low < 0 && high > 0;
  return (
    <svg className="histogram" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="Histogram of the CSCV logits" data-testid="pbo-histogram">
      <line x1={PAD.left} x2={WIDTH - PAD.right} y1={PAD.top + plotHeight} y2={PAD.top + plotHeight} className="axis" />
      <text x={PAD.left - 4} y={PAD.top + 8} className="tick" textAnchor="end">
        {peak.toLocaleString("en-US")}
      </text>
      <text x={PAD.left - 4} y={PAD.top + plotHeight} className="tick" textAnchor="end">
        0
      </text>
      {bars.map((bar, index) => (
        <rect
          key={index}
          x={x(bar.from) + 0.5}
          y={y(bar.count)}
          width={Math.max(0.5, x(bar.to) - x(bar.from) - 1)}
          height={PAD.top + plotHeight - y(bar.count)}
          fill={BAR_COLOURS[bar.tone]}
          opacity={0.85}
        >
          <title>
            logit {num(bar.from)} … {num(bar.to)}: {bar.count.toLocaleString("en-US")} splits
          </title>
        </rect>
      ))}
      {zeroInside && (
        <line x1={x(0)} x2={x(0)} y1={PAD.top} y2={PAD.top + plotHeight} className="zero-line" />
      )}
      <text x={PAD.left} y={HEIGHT - 6} className="tick">
        {num(low)}
      </text>
      {zeroInside && (
        <text x={x(0)} y={HEIGHT - 6} className="tick" textAnchor="middle">
          0
        </text>
      )}
      <text x={WIDTH - PAD.right} y={HEIGHT - 6} className="tick" textAnchor="end">
        {num(high)}
      </text>
    </svg>
  );
}

/** Cumulative distributions of out-of-sample performance: the in-sample winners against all configurations. */
function DominanceChart({ dominance }: { dominance: NonNullable<PboReport["dominance"]> }) {
  const { grid, cdf_selected: selected, cdf_all: all } = dominance;
  if (grid.length < 2) {
    return null;
  }
  const low = grid[0]!;
  const high = grid[grid.length - 1]!;
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const path = (cdf: number[]) =>
    grid
      .map((value, i) => {
        const px = PAD.left + ((value - low) / (high - low || 1)) * plotWidth;
        const py = PAD.top + plotHeight - (cdf[i] ?? 0) * plotHeight;
        return `${i === 0 ? "M" : "L"}${px.toFixed(1)},${py.toFixed(1)}`;
      })
      .join("");
  return (
    <svg className="histogram" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="Out-of-sample performance distributions">
      <line x1={PAD.left} x2={WIDTH - PAD.right} y1={PAD.top + plotHeight} y2={PAD.top + plotHeight} className="axis" />
      <path d={path(all)} fill="none" stroke="#8391a2" strokeWidth={1.5} />
      <path d={path(selected)} fill="none" stroke="#60a5fa" strokeWidth={1.5} />
      <text x={PAD.left - 4} y={PAD.top + 8} className="tick" textAnchor="end">
        1
      </text>
      <text x={PAD.left - 4} y={PAD.top + plotHeight} className="tick" textAnchor="end">
        0
      </text>
      <text x={PAD.left} y={HEIGHT - 6} className="tick">
        {num(low, 3)}
      </text>
      <text x={WIDTH - PAD.right} y={HEIGHT - 6} className="tick" textAnchor="end">
        {num(high, 3)}
      </text>
    </svg>
  );
}

export function PboDetails({ report }: { report: PboReport }) {
  const verdict = pboVerdict(report.pbo, report.n_splits);
  const d = report.degradation;
  return (
    <div className="pbo">
      <div className="pbo-headline">
        <span className="pbo-value" data-testid="pbo-value">
          {pct(report.pbo, 1)}
        </span>
        <Badge tone={verdict.tone}>{verdict.label}</Badge>
      </div>
      <p className="small" data-testid="pbo-explanation">
        {verdict.text}
      </p>
      <div className="pbo-charts">
        <figure>
          <LogitHistogram report={report} />
          <figcaption className="muted small">
            Logit of the winner's out-of-sample rank per split: <span className="down">≤ 0 overfit</span>,{" "}
            <span className="up">&gt; 0 held up</span>
          </figcaption>
        </figure>
        {report.dominance && (
          <figure>
            <DominanceChart dominance={report.dominance} />
            <figcaption className="muted small">
              Out-of-sample performance CDF: <span style={{ color: "#60a5fa" }}>in-sample winners</span> vs{" "}
              <span>all configurations</span>
              {report.dominance.first_order_dominant !== undefined &&
                ` · winners dominate: ${report.dominance.first_order_dominant ? "yes" : "no"}`}
            </figcaption>
          </figure>
        )}
      </div>
      <dl className="facts facts-numeric pbo-facts" data-testid="pbo-degradation">
        <dt title="Least-squares slope of out-of-sample on in-sample performance: negative means the best in sample do worse out of sample">
          Degradation slope
        </dt>
        <dd>{num(d.slope, 3)}</dd>
        <dt>Intercept</dt>
        <dd>{num(d.intercept, 4)}</dd>
        <dt>R²</dt>
        <dd>{num(d.r2, 3)}</dd>
        <dt title="Share of splits where the chosen configuration lost money out of sample">P(out-of-sample loss)</dt>
        <dd>{pct(d.prob_oos_loss, 1)}</dd>
        <dt>Splits · blocks</dt>
        <dd>
          {report.n_splits.toLocaleString("en-US")} · {report.n_blocks ?? "—"}
        </dd>
      </dl>
    </div>
  );
}

export function PboPanel({ sweepId }: { sweepId: string }) {
  const { $api } = useApi();
  const pbo = $api.useQuery(
    "get",
    "/v1/backtests/sweeps/{sweep_id}/pbo",
    { params: { path: { sweep_id: sweepId } } },
    { staleTime: Number.POSITIVE_INFINITY },
  );
  return (
    <Panel title="Probability of backtest overfitting (CSCV)" className="pbo-panel">
      {pbo.isPending && <Loading what="PBO" />}
      {pbo.isError && <ErrorBox title="PBO unavailable" error={pbo.error} onRetry={() => void pbo.refetch()} />}
      {pbo.data && <PboDetails report={pbo.data as unknown as PboReport} />}
    </Panel>
  );
}
