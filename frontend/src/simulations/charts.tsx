/** SVG charts of a Monte Carlo run: the fan of wealth percentiles over the horizon, the terminal histogram. */

const W = 640;

function compact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(0)}k`;
  return value.toFixed(0);
}

export interface Fan {
  days: number[];
  q: number[];
  value: number[][];
}

/** Bands between symmetric percentiles (5–95, 25–75 …) and the median line. */
export function FanChart({ fan, initial }: { fan: Fan; initial: number }) {
  const H = 300;
  const pad = { left: 56, right: 16, top: 12, bottom: 30 };
  const all = fan.value.flat();
  const low = Math.min(...all, initial);
  const high = Math.max(...all, initial);
  const lastDay = fan.days[fan.days.length - 1] ?? 1;
  const sx = (day: number) => pad.left + (day / lastDay) * (W - pad.left - pad.right);
  const sy = (v: number) => H - pad.bottom - ((v - low) / (high - low || 1)) * (H - pad.top - pad.bottom);
  const n = fan.q.length;
  const bands: [number, number][] = [];
  for (let i = 0; i < Math.floor(n / 2); i++) {
    bands.push([i, n - 1 - i]);
  }
  const medianIndex = fan.q.findIndex((q) => Math.abs(q - 0.5) < 1e-9);
  const area = (lo: number[], hi: number[]) =>
    [...fan.days.map((d, i) => `${sx(d)},${sy(hi[i]!)}`), ...[...fan.days].reverse().map((d, j) => `${sx(d)},${sy(lo[fan.days.length - 1 - j]!)}`)].join(" ");
  const ticks = 5;
  return (
    <svg viewBox={`0 0 ${W} ${H}`} className="svg-chart" data-testid="fan-chart" role="img" aria-label="fan chart">
      {Array.from({ length: ticks + 1 }, (_, i) => low + ((high - low) * i) / ticks).map((v) => (
        <g key={v}>
          <line x1={pad.left} x2={W - pad.right} y1={sy(v)} y2={sy(v)} className="grid" />
          <text x={pad.left - 6} y={sy(v)} className="tick" textAnchor="end" dominantBaseline="middle">
            {compact(v)}
          </text>
        </g>
      ))}
      {bands.map(([lo, hi], index) => (
        <polygon key={lo} points={area(fan.value[lo]!, fan.value[hi]!)} fill="#60a5fa" opacity={0.14 + 0.14 * index}>
          <title>{`${(100 * fan.q[lo]!).toFixed(0)}th – ${(100 * fan.q[hi]!).toFixed(0)}th percentile`}</title>
        </polygon>
      ))}
      {medianIndex >= 0 && (
        <polyline points={fan.days.map((d, i) => `${sx(d)},${sy(fan.value[medianIndex]![i]!)}`).join(" ")} fill="none" stroke="#34d399" strokeWidth={2} />
      )}
      <line x1={pad.left} x2={W - pad.right} y1={sy(initial)} y2={sy(initial)} stroke="#8391a2" strokeDasharray="4 3" />
      {[0, 0.25, 0.5, 0.75, 1].map((f) => (
        <text key={f} x={sx(f * lastDay)} y={H - pad.bottom + 14} className="tick" textAnchor="middle">
          {Math.round(f * lastDay)}
        </text>
      ))}
      <text x={(W + pad.left) / 2} y={H - 2} className="tick" textAnchor="middle">
        trading days ahead (median in green, bands {fan.q.map((q) => `${(100 * q).toFixed(0)}`).join("/")} percentiles)
      </text>
    </svg>
  );
}

export function Histogram({ edges, counts, marker, testId }: { edges: number[]; counts: number[]; marker?: number; testId?: string }) {
  const H = 220;
  const pad = { left: 40, right: 12, top: 10, bottom: 28 };
  if (counts.length === 0) {
    return null;
  }
  const low = edges[0]!;
  const high = edges[edges.length - 1]!;
  const top = Math.max(...counts);
  const sx = (v: number) => pad.left + ((v - low) / (high - low || 1)) * (W - pad.left - pad.right);
  const sy = (c: number) => H - pad.bottom - (c / top) * (H - pad.top - pad.bottom);
  return (
    <svg viewBox={`0 0 ${W} ${H}`} className="svg-chart" data-testid={testId} role="img" aria-label="histogram">
      {counts.map((count, i) => (
        <rect
          key={i}
          x={sx(edges[i]!) + 0.5}
          y={sy(count)}
          width={Math.max(1, sx(edges[i + 1]!) - sx(edges[i]!) - 1)}
          height={H - pad.bottom - sy(count)}
          className={marker !== undefined && edges[i + 1]! <= marker ? "bar-loss" : "bar-noise"}
        >
          <title>{`${count} in [${compact(edges[i]!)}, ${compact(edges[i + 1]!)})`}</title>
        </rect>
      ))}
      {marker !== undefined && marker >= low && marker <= high && (
        <line x1={sx(marker)} x2={sx(marker)} y1={pad.top} y2={H - pad.bottom} className="mp-edge" />
      )}
      {[0, 0.25, 0.5, 0.75, 1].map((f) => (
        <text key={f} x={sx(low + f * (high - low))} y={H - pad.bottom + 14} className="tick" textAnchor="middle">
          {compact(low + f * (high - low))}
        </text>
      ))}
      <line x1={pad.left} x2={W - pad.right} y1={H - pad.bottom} y2={H - pad.bottom} className="axis" />
    </svg>
  );
}
