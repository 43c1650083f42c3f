import type { ReactNode } from "react";

export interface Column<Row> {
  key: string;
  label: string;
  numeric?: boolean;
  render?: (row: Row) => ReactNode;
}

function cellText(value: unknown): string {
  if (value === null || value === undefined || value === "") {
    return "—";
  }
  if (typeof value === "number") {
    return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toLocaleString("en-US", { maximumFractionDigits: 4 });
  }
  if (typeof value === "object") {
    return JSON.stringify(value);
  }
  return String(value);
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

/** Columns for rows of unknown shape: every key of the first rows, numbers right-aligned. */
export function columnsOf(rows: readonly Record<string, unknown>[]): Column<Record<string, unknown>>[] {
  const keys: string[] = [];
  for (const row of rows.slice(0, 20)) {
    for (const key of Object.keys(row)) {
      if (!keys.includes(key)) {
        keys.push(key);
      }
    }
  }
  return keys.map((key) => ({
    key,
    label: key.replace(/_/g, " "),
    numeric: rows.some((row) => typeof row[key] === "number" || (typeof row[key] === "string" && NUMERIC.test(row[key] as string))),
  }));
}

/** A plain table of records; cells are rendered by the column or as text. */
export function DataTable<Row extends object>({ rows, columns, testId, empty = "Nothing yet.", rowKey }: {
  rows: readonly Row[];
  columns: Column<Row>[];
  testId?: string;
  empty?: ReactNode;
  rowKey?: (row: Row, index: number) => string;
}) {
  if (rows.length === 0) {
    return (
      <p className="muted" data-testid={testId ? `${testId}-empty` : undefined}>
        {empty}
      </p>
    );
  }
  return (
    <div className="table-scroll">
      <table className="table table-numeric" data-testid={testId}>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.key} className={column.numeric ? "num" : ""}>
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={rowKey ? rowKey(row, index) : index}>
              {columns.map((column) => (
                <td key={column.key} className={column.numeric ? "num" : ""}>
                  {column.render ? column.render(row) : cellText((row as Record<string, unknown>)[column.key])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
