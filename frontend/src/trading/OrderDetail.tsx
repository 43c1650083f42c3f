import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { ApiError } from "../api/errors";
import { useApi } from "../auth/AuthContext";
import { RequireGroup, TRADING_GROUPS } from "../auth/RequireGroup";
import { ErrorBox, Loading, Panel } from "../ui/components";
import { formatUtc } from "../ui/format";
import { formatMoney, formatQuantity } from "./account";
import { priceText, StatusBadge } from "./Blotter";
import { RejectionTable } from "./RejectionTable";
import { buildReplace, OPEN_STATUSES, violationsOf, type OrderView } from "./ticket";

interface OrderEvent {
  version?: number;
  kind?: string;
  status?: string;
  at?: string;
  data?: unknown;
}

function eventSummary(data: unknown): string {
  if (!data || typeof data !== "object") {
    return data === null || data === undefined ? "" : String(data);
  }
  const record = data as Record<string, unknown>;
  const violations = Array.isArray(record.violations) ? (record.violations as { rule?: string }[]) : [];
  if (violations.length > 0) {
    return `risk: ${violations.map((item) => item.rule).join(", ")}`;
  }
  if (record.risk && typeof record.risk === "object") {
    const risk = record.risk as Record<string, unknown>;
    const spec = record.spec as Record<string, unknown> | undefined;
    const terms = spec ? `new terms ${spec.quantity} @ ${spec.limit_price ?? spec.stop_price ?? "MKT"} · ` : "";
    return `${terms}risk passed · last ${risk.last_price ?? "—"} · equity ${risk.equity ?? "—"}`;
  }
  if ("reason" in record) {
    return String(record.reason);
  }
  if ("quantity" in record && "price" in record) {
    return `${record.quantity} @ ${record.price}`;
  }
  if ("by" in record && Object.keys(record).length === 1) {
    return `by ${record.by}`;
  }
  return JSON.stringify(record).slice(0, 160);
}

function ReplaceForm({ order, accountId }: { order: OrderView; accountId: string }) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const [quantity, setQuantity] = useState(String(Number(order.quantity)));
  const [limitPrice, setLimitPrice] = useState(order.limit_price ?? "");
  const [stopPrice, setStopPrice] = useState(order.stop_price ?? "");
  const [problems, setProblems] = useState<string[]>([]);
  const replace = $api.useMutation("patch", "/v1/accounts/{account_id}/orders/{order_id}");
  const cancel = $api.useMutation("delete", "/v1/accounts/{account_id}/orders/{order_id}");
  const path = { account_id: accountId, order_id: order.id };
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ["get", "/v1/accounts/{account_id}/orders"] });
    void queryClient.invalidateQueries({ queryKey: ["get", "/v1/accounts/{account_id}/orders/{order_id}"] });
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    const built = buildReplace(order, quantity, limitPrice, stopPrice);
    setProblems(built.problems);
    if (built.request) {
      replace.mutate({ params: { path }, body: built.request }, { onSettled: refresh });
    }
  }

  return (
    <form className="replace-form" onSubmit={submit} noValidate data-testid="replace-form">
      <label className="field">
        <span className="field-label">Quantity</span>
        <input aria-label="New quantity" inputMode="numeric" value={quantity} onChange={(e) => setQuantity(e.target.value)} />
      </label>
      {order.limit_price !== null && (
        <label className="field">
          <span className="field-label">Limit price</span>
          <input aria-label="New limit price" inputMode="decimal" value={limitPrice} onChange={(e) => setLimitPrice(e.target.value)} />
        </label>
      )}
      {order.stop_price !== null && (
        <label className="field">
          <span className="field-label">Stop price</span>
          <input aria-label="New stop price" inputMode="decimal" value={stopPrice} onChange={(e) => setStopPrice(e.target.value)} />
        </label>
      )}
      <button type="submit" className="btn" disabled={replace.isPending}>
        {replace.isPending ? "Replacing…" : "Replace"}
      </button>
      <button
        type="button"
        className="btn btn-danger"
        disabled={cancel.isPending}
        onClick={() => cancel.mutate({ params: { path } }, { onSettled: refresh })}
      >
        {cancel.isPending ? "Canceling…" : "Cancel order"}
      </button>
      {problems.length > 0 && (
        <ul className="form-problems replace-problems">
          {problems.map((item) => (
            <li key={item}>{item}</li>
          ))}
        </ul>
      )}
      {replace.isError && <ErrorBox title="The replace was refused" error={replace.error} />}
      {replace.error instanceof ApiError && Array.isArray(replace.error.details) && (
        <RejectionTable violations={violationsOf({ rejection: replace.error.details as unknown[] })} />
      )}
      {cancel.isError && <ErrorBox title="The cancel was refused" error={cancel.error} />}
    </form>
  );
}

/** One order: its terms, fills, rejection (rule and numbers), full event history; cancel/replace while open. */
export function OrderDetail({ accountId, orderId }: { accountId: string; orderId: string }) {
  const { $api } = useApi();
  const query = $api.useQuery(
    "get",
    "/v1/accounts/{account_id}/orders/{order_id}",
    { params: { path: { account_id: accountId, order_id: orderId } } },
    { refetchInterval: 5_000, staleTime: 0 },
  );
  if (query.isPending) {
    return <Loading what="the order" />;
  }
  if (query.isError) {
    return <ErrorBox title="Order unavailable" error={query.error} onRetry={() => void query.refetch()} />;
  }
  const order = query.data;
  const events = (order.events ?? []) as OrderEvent[];
  const open = OPEN_STATUSES.includes(order.status);
  const violations = violationsOf(order);
  return (
    <Panel
      title={
        <>
          Order <code>{order.id.slice(0, 12)}</code>
        </>
      }
      actions={<StatusBadge status={order.status} />}
      className="order-detail"
    >
      <div data-testid="order-detail" data-status={order.status}>
        <p className="order-terms">
          <strong className={order.side === "buy" || order.side === "cover" ? "up" : "down"}>{order.side}</strong>{" "}
          {formatQuantity(order.quantity)} <strong>{order.symbol}</strong> · {order.order_type.replace("_", " ")} {priceText(order)} ·{" "}
          {order.time_in_force.toUpperCase()}
          {order.strategy && <> · strategy {order.strategy}</>}
        </p>
        <dl className="facts facts-inline">
          <dt>Filled</dt>
          <dd>
            {formatQuantity(order.filled_quantity)} / {formatQuantity(order.quantity)}
            {order.average_price !== null && <> @ {formatMoney(order.average_price)}</>}
          </dd>
          <dt>Fees</dt>
          <dd>{formatMoney(order.fees)}</dd>
          <dt>Created</dt>
          <dd>{formatUtc(order.created_at)}</dd>
          <dt>Version</dt>
          <dd>{order.version}</dd>
        </dl>
        {violations.length > 0 && <RejectionTable violations={violations} />}
        {open && (
          <RequireGroup groups={TRADING_GROUPS}>
            <ReplaceForm key={`${order.id}-${order.version}`} order={order} accountId={accountId} />
          </RequireGroup>
        )}
        {open && (
          <p className="muted small">
            The paper broker fills when a market data bar closes: a limit order away from the market stays accepted.
          </p>
        )}
        <h3 className="subhead">History</h3>
        <table className="table" data-testid="order-events">
          <thead>
            <tr>
              <th>#</th>
              <th>At</th>
              <th>Event</th>
              <th>Status</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event, index) => (
              <tr key={`${event.version ?? index}-${event.kind}`}>
                <td>{event.version ?? index + 1}</td>
                <td className="nowrap">{formatUtc(event.at)}</td>
                <td className="mono">{event.kind}</td>
                <td>{event.status && <StatusBadge status={event.status} />}</td>
                <td className="muted small wrap">{eventSummary(event.data)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Panel>
  );
}
