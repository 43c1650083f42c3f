import { DataTable } from "../ui/DataTable";
import { formatMoney, formatQuantity, signClass } from "./account";
import type { PositionRow } from "./positions";

/** Positions marked to the latest price. */
export function PositionsTable({ rows, totalEquity }: { rows: PositionRow[]; totalEquity?: number }) {
  const signed = (key: keyof PositionRow) => (row: PositionRow) => (
    <span className={signClass(row[key])}>{formatMoney(row[key])}</span>
  );
  return (
    <DataTable
      rows={rows}
      testId="positions-table"
      empty="No positions: orders fill when a market data bar closes."
      rowKey={(row) => row.symbol}
      columns={[
        { key: "symbol", label: "Symbol", render: (row) => <strong>{row.symbol}</strong> },
        { key: "quantity", label: "Qty", numeric: true, render: (row) => formatQuantity(row.quantity) },
        { key: "average_cost", label: "Avg cost", numeric: true, render: (row) => formatMoney(row.average_cost) },
        { key: "price", label: "Price", numeric: true, render: (row) => formatMoney(row.price) },
        { key: "market_value", label: "Value", numeric: true, render: (row) => formatMoney(row.market_value) },
        ...(totalEquity
          ? [{
              key: "weight",
              label: "Weight",
              numeric: true,
              render: (row: PositionRow) =>
                row.market_value === null ? "—" : `${((100 * Number(row.market_value)) / totalEquity).toFixed(1)}%`,
            }]
          : []),
        { key: "unrealized", label: "Unrealized", numeric: true, render: signed("unrealized") },
        { key: "realized", label: "Realized", numeric: true, render: signed("realized") },
        { key: "lots", label: "Lots", numeric: true },
      ]}
    />
  );
}
