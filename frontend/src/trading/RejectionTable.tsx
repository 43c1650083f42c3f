import type { Violation } from "./ticket";

function show(value: unknown): string {
  if (value === null || value === undefined) {
    return "—";
  }
  return Array.isArray(value) ? value.join(", ") : String(value);
}

/** Each broken rule with its limit and the order's actual number. */
export function RejectionTable({ violations, compact = false }: { violations: Violation[]; compact?: boolean }) {
  if (compact) {
    // Narrow places (the ticket): one line a rule, the message under it.
    return (
      <ul className="rejection-list" data-testid="rejection-table">
        {violations.map((item, index) => (
          <li key={`${item.rule}-${index}`} title={item.message}>
            <span className="mono">{item.rule}</span>{" "}
            <span className="small">
              limit <strong>{show(item.limit)}</strong>, actual <strong>{show(item.actual)}</strong>
            </span>
          </li>
        ))}
      </ul>
    );
  }
  return (
    <table className="table table-numeric rejection-table" data-testid="rejection-table">
      <thead>
        <tr>
          <th>Rule</th>
          <th className="num">Limit</th>
          <th className="num">Actual</th>
          <th>Why</th>
        </tr>
      </thead>
      <tbody>
        {violations.map((item, index) => (
          <tr key={`${item.rule}-${index}`}>
            <td className="mono">{item.rule}</td>
            <td className="num">{show(item.limit)}</td>
            <td className="num">{show(item.actual)}</td>
            <td className="wrap">{item.message}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
