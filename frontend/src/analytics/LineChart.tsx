/** A small multi-series SVG line chart over dates (nulls break the line). */
export interface LineSeries {
  label: string;
  color: string;
  values: (number | null)[];
}

const W = 640;

export function LineChart({ dates, series, height = 180, testId }: { dates: string[]; series: LineSeries[]; height?: number; testId?: string }) {
  const pad = { left: 48, right: 12, top: 10, bottom: 22 };
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  if (all.length === 0 || dates.length < 2) {
    return <p className="muted small">No values: the signal needs more history than this range, or data these symbols lack (pressure needs volume).</p>;
  }
  const low = Math.min(...all);
  const high = Math.max(...all);
  const sx = (i: number) => pad.left + (i / (dates.length - 1)) * (W - pad.left - pad.right);
  const sy = (v: number) => height - pad.bottom - ((v - low) / (high - low || 1)) * (height - pad.top - pad.bottom);
  const path = (values: (number | null)[]) => {
    let d = "";
    let pen = false;
    values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${sx(i).toFixed(1)},${sy(v).toFixed(1)}`;
      pen = true;
    });
    return d;
  };
  const fmt = (v: number) => (Math.abs(high - low) < 0.1 ? v.toFixed(4) : Math.abs(high) > 1000 ? v.toExponential(1) : v.toFixed(2));
  const ticks = [0, 0.5, 1].map((f) => Math.round(f * (dates.length - 1)));
  return (
    <figure className="svg-figure">
      <svg viewBox={`0 0 ${W} ${height}`} className="svg-chart" data-testid={testId} role="img" aria-label={series.map((s) => s.label).join(", ")}>
        {[low, (low + high) / 2, high].map((v) => (
          <g key={v}>
            <line x1={pad.left} x2={W - pad.right} y1={sy(v)} y2={sy(v)} className="grid" />
            <text x={pad.left - 4} y={sy(v)} className="tick" textAnchor="end" dominantBaseline="middle">
              {fmt(v)}
            </text>
          </g>
        ))}
        {ticks.map((i) => (
          <text key={i} x={sx(i)} y={height - 6} className="tick" textAnchor={i === 0 ? "start" : i === dates.length - 1 ? "end" : "middle"}>
            {dates[i]}
          </text>
        ))}
        {series.map((s) => (
          <path key={s.label} d={path(s.values)} fill="none" stroke={s.color} strokeWidth={1.4} />
        ))}
      </svg>
      {series.length > 1 && (
        <figcaption className="legend">
          {series.map((s) => (
            <span key={s.label}>
              <i style={{ background: s.color }} /> {s.label}
            </span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}
