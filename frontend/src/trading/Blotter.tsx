import { useState } from "react";

import { useApi } from "../auth/AuthContext";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { formatUtc } from "../ui/format";
import { formatPrice } from "../ui/format";
import { formatQuantity } from "./account";
import { STATUSES, type OrderView } from "./ticket";

const PAGE_SIZE = 15;

export function statusTone(status: string): "good" | "bad" | "warn" | "info" | "neutral" {
  switch (status) {
    case "filled":
      return "good";
    case "rejected":
      return "bad";
    case "accepted":
    case "partially_filled":
      return "info";
    case "canceled":
    case "expired":
      return "warn";
    default:
      return "neutral";
  }
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge tone={statusTone(status)}>
      <span data-testid="order-status">{status}</span>
    </Badge>
  );
}

export function priceText(order: OrderView): string {
  if (order.order_type === "market") {
    return "MKT";
  }
  const parts = [];
  if (order.stop_price !== null) {
    parts.push(`stop ${formatPrice(Number(order.stop_price))}`);
  }
  if (order.limit_price !== null) {
    parts.push(`lmt ${formatPrice(Number(order.limit_price))}`);
  }
  return parts.join(" / ");
}

/** Orders of the account, newest first: status and symbol filters, cursor pagination. */
export function Blotter({ accountId, selected, onSelect }: {
  accountId: string;
  selected: string | null;
  onSelect: (orderId: string) => void;
}) {
  const { $api } = useApi();
  const [status, setStatus] = useState("");
  const [symbol, setSymbol] = useState("");
  // The cursors of the pages before the current one (the first page has none).
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const query = $api.useQuery(
    "get",
    "/v1/accounts/{account_id}/orders",
    {
      params: {
        path: { account_id: accountId },
        query: {
          limit: PAGE_SIZE,
          ...(status ? { status } : {}),
          ...(symbol.trim() ? { symbol: symbol.trim().toUpperCase() } : {}),
          ...(cursor ? { cursor } : {}),
        },
      },
    },
    { refetchInterval: 5_000, staleTime: 0 },
  );
  const reset = () => setCursors([null]);
  const orders = query.data?.orders ?? [];
  const actions = (
    <>
      <select aria-label="Status filter" value={status} onChange={(event) => { setStatus(event.target.value); reset(); }}>
        <option value="">all statuses</option>
        {STATUSES.map((item) => (
          <option key={item} value={item}>
            {item}
          </option>
        ))}
      </select>
      <input
        type="search"
        aria-label="Symbol filter"
        placeholder="symbol"
        className="symbol-filter"
        value={symbol}
        onChange={(event) => { setSymbol(event.target.value); reset(); }}
      />
    </>
  );
  return (
    <Panel title="Blotter" actions={actions} className="blotter">
      {query.isPending && <Loading what="orders" />}
      {query.isError && <ErrorBox title="Orders unavailable" error={query.error} onRetry={() => void query.refetch()} />}
      {query.data && orders.length === 0 && (
        <p className="muted" data-testid="blotter-empty">
          No orders{status ? ` with status ${status}` : ""}{symbol ? ` in ${symbol.toUpperCase()}` : ""}.
        </p>
      )}
      {orders.length > 0 && (
        <div className="table-scroll">
          <table className="table table-numeric" data-testid="blotter">
            <thead>
              <tr>
                <th>Created</th>
                <th>Symbol</th>
                <th>Side</th>
                <th className="num">Qty</th>
                <th className="num">Filled</th>
                <th>Type</th>
                <th className="num">Price</th>
                <th>TIF</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((order) => (
                <tr
                  key={order.id}
                  data-testid="blotter-row"
                  data-order-id={order.id}
                  className={order.id === selected ? "row-selected clickable" : "clickable"}
                  tabIndex={0}
                  onClick={() => onSelect(order.id)}
                  onKeyDown={(event) => {
                    if (event.key === "Enter" || event.key === " ") {
                      event.preventDefault();
                      onSelect(order.id);
                    }
                  }}
                >
                  <td>{formatUtc(order.created_at)}</td>
                  <td><strong>{order.symbol}</strong></td>
                  <td className={order.side === "buy" || order.side === "cover" ? "up" : "down"}>{order.side}</td>
                  <td className="num">{formatQuantity(order.quantity)}</td>
                  <td className="num">{formatQuantity(order.filled_quantity)}</td>
                  <td>{order.order_type.replace("_", " ")}</td>
                  <td className="num">{priceText(order)}</td>
                  <td>{order.time_in_force.toUpperCase()}</td>
                  <td><StatusBadge status={order.status} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="pager">
        <button type="button" className="btn btn-small" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span className="muted small" data-testid="blotter-page">page {cursors.length}</span>
        <button
          type="button"
          className="btn btn-small"
          disabled={!query.data?.next_cursor}
          onClick={() => setCursors([...cursors, query.data?.next_cursor ?? null])}
        >
          Older →
        </button>
      </div>
    </Panel>
  );
}
