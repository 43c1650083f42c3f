import { useMemo, useState } from "react";

import { signedPct } from "./format";
import { cellText, colourLimit, heatColour, heatRows, MONTHS } from "./heatmap";
import type { MonthlyReturns } from "./types";

/** Years × months of returns, coloured on one scale; the hovered cell's value is spelled out above. */
export function MonthlyHeatmap({ monthly }: { monthly: MonthlyReturns }) {
  const rows = useMemo(() => heatRows(monthly), [monthly]);
  const limit = useMemo(() => colourLimit(monthly.table), [monthly]);
  const yearLimit = useMemo(() => colourLimit([rows.map((row) => row.total)]), [rows]);
  const [hovered, setHovered] = useState<string | null>(null);
  if (rows.length === 0) {
    return <p className="muted">No monthly returns.</p>;
  }
  return (
    <div className="heatmap" data-testid="monthly-heatmap">
      <div className="heatmap-legend small">
        <span className="muted" data-testid="heatmap-readout">
          {hovered ?? "Hover a cell for its return"}
        </span>
        <span className="heatmap-scale" title="Colours saturate beyond the 95th percentile of the monthly moves">
          <span>{signedPct(-limit, 1)}</span>
          <span className="heatmap-gradient" aria-hidden="true" />
          <span>{signedPct(limit, 1)}</span>
        </span>
      </div>
      <table className="heatmap-table">
        <thead>
          <tr>
            <th />
            {MONTHS.map((month) => (
              <th key={month}>{month}</th>
            ))}
            <th>Year</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.year}>
              <th scope="row">{row.year}</th>
              {row.months.map((value, month) => {
                const label = `${MONTHS[month]} ${row.year}: ${value === null ? "no data" : signedPct(value)}`;
                return (
                  <td
                    key={month}
                    style={{ background: heatColour(value, limit) }}
                    title={label}
                    onMouseEnter={() => setHovered(label)}
                    onMouseLeave={() => setHovered(null)}
                    data-value={value ?? ""}
                  >
                    {cellText(value)}
                  </td>
                );
              })}
              <td
                className="heatmap-total"
                style={{ background: heatColour(row.total, yearLimit) }}
                title={`${row.year}: ${signedPct(row.total)}`}
                onMouseEnter={() => setHovered(`${row.year} (compounded): ${signedPct(row.total)}`)}
                onMouseLeave={() => setHovered(null)}
              >
                {cellText(row.total)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
