/** Labeled horizontal bars (feature importance, study means): one row a label, signed values centered. */
export function HBars({ rows, format, testId }: {
  rows: { label: string; value: number }[];
  format: (value: number) => string;
  testId?: string;
}) {
  const scale = Math.max(1e-12, ...rows.map((row) => Math.abs(row.value)));
  const signed = rows.some((row) => row.value < 0);
  return (
    <div className="hbars" data-testid={testId}>
      {rows.map((row) => (
        <div key={row.label} className="bar-row" data-label={row.label}>
          <span className="bar-label" title={row.label}>
            {row.label}
          </span>
          <div className="bar-track">
            <div
              className={row.value >= 0 ? "bar-fill" : "bar-fill negative"}
              style={
                signed
                  ? { width: `${(50 * Math.abs(row.value)) / scale}%` }
                  : { left: 0, width: `${(100 * Math.abs(row.value)) / scale}%` }
              }
            />
          </div>
          <span className="mono small">{format(row.value)}</span>
        </div>
      ))}
    </div>
  );
}
