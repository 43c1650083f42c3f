import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";

import { ApiError } from "../api/errors";
import { useApi } from "../auth/AuthContext";
import { Badge, ErrorBox } from "../ui/components";
import { formatPrice } from "../ui/format";
import {
  buildOrderRequest,
  defaultTicket,
  needsLimit,
  needsStop,
  newIdempotencyKey,
  ORDER_TYPES,
  SIDES,
  TIME_IN_FORCE,
  ticketProblems,
  violationsOf,
  type OrderView,
  type TicketState,
} from "./ticket";
import { RejectionTable } from "./RejectionTable";

/** The order ticket: validated as the API validates, one Idempotency-Key per submission. */
export function OrderTicket({ accountId, onSubmitted }: { accountId: string; onSubmitted: (order: OrderView) => void }) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const symbolsQuery = $api.useQuery("get", "/v1/marketdata/symbols", {}, { staleTime: 5 * 60_000 });
  const symbols = useMemo(() => (symbolsQuery.data?.symbols ?? []).map((item) => item.symbol), [symbolsQuery.data]);
  const [ticket, setTicket] = useState<TicketState>(defaultTicket);
  // The key of the submission being prepared: a double click or a retry after a lost answer reuses it,
  // an edit or a settled answer starts a new one.
  const [idempotencyKey, setIdempotencyKey] = useState(newIdempotencyKey);
  const [touched, setTouched] = useState(false);
  const [result, setResult] = useState<OrderView | null>(null);
  const submit = $api.useMutation("post", "/v1/accounts/{account_id}/orders");
  const symbol = ticket.symbol || (symbols.includes("SP500") ? "SP500" : (symbols[0] ?? ""));
  const current = { ...ticket, symbol };
  const quote = $api.useQuery(
    "get",
    "/v1/marketdata/quotes/{symbol}",
    { params: { path: { symbol } } },
    { enabled: symbol !== "", retry: false },
  );
  const problems = ticketProblems(current, symbolsQuery.data ? symbols : null);
  const shownProblems = touched ? problems : [];
  const rejected = submit.error instanceof ApiError && (submit.error.body as OrderView | null)?.status === "rejected"
    ? (submit.error.body as OrderView)
    : null;

  function change(patch: Partial<TicketState>) {
    setTicket({ ...current, ...patch });
    setIdempotencyKey(newIdempotencyKey());
    setResult(null);
    if (submit.isError) {
      submit.reset();
    }
  }

  function send(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (problems.length > 0 || submit.isPending) {
      return;
    }
    submit.mutate(
      {
        params: { path: { account_id: accountId }, header: { "idempotency-key": idempotencyKey } },
        body: buildOrderRequest(current),
      },
      {
        onSuccess: (order) => {
          setResult(order);
          onSubmitted(order);
        },
        onError: (error) => {
          const body = error instanceof ApiError ? (error.body as OrderView | null) : null;
          if (body?.status === "rejected" && typeof body.id === "string") {
            onSubmitted(body);
          }
        },
        onSettled: (_data, error) => {
          // A definitive answer (accepted or refused): the next submission is a new order.
          if (!(error instanceof ApiError) || error.status !== 0) {
            setIdempotencyKey(newIdempotencyKey());
          }
          void queryClient.invalidateQueries({ queryKey: ["get", "/v1/accounts/{account_id}/orders"] });
          void queryClient.invalidateQueries({ queryKey: ["get", "/v1/accounts/{account_id}/positions"] });
        },
      },
    );
  }

  const problemFor = (field: keyof TicketState) => shownProblems.some((item) => item.field === field);
  const last = quote.data?.last_bar?.close ?? null;
  return (
    <form className="ticket backtest-form" onSubmit={send} noValidate data-testid="order-ticket">
      <div className="field-grid">
        <label className="field">
          <span className="field-label">Symbol</span>
          <select aria-label="Symbol" value={symbol} onChange={(event) => change({ symbol: event.target.value })} aria-invalid={problemFor("symbol")}>
            {symbolsQuery.isPending && <option value="">loading symbols…</option>}
            {symbolsQuery.data && symbols.length === 0 && <option value="">no symbols: load market data first</option>}
            {symbols.map((item) => (
              <option key={item} value={item}>
                {item}
              </option>
            ))}
          </select>
        </label>
        <div className="field">
          <span className="field-label">Last close</span>
          <span className="mono ticket-quote" data-testid="ticket-quote">
            {!symbol ? "—" : quote.data ? formatPrice(last) : quote.isError ? "no quote" : "…"}
          </span>
        </div>
      </div>
      <div className="intervals ticket-sides" role="radiogroup" aria-label="Side">
        {SIDES.map((side) => (
          <button
            key={side}
            type="button"
            role="radio"
            aria-checked={current.side === side}
            className={current.side === side ? `seg active side-${side}` : "seg"}
            onClick={() => change({ side })}
          >
            {side}
          </button>
        ))}
      </div>
      <div className="field-grid">
        <label className="field">
          <span className="field-label">Quantity</span>
          <input
            type="text"
            inputMode="numeric"
            aria-label="Quantity"
            value={current.quantity}
            aria-invalid={problemFor("quantity")}
            onChange={(event) => change({ quantity: event.target.value })}
          />
        </label>
        <label className="field">
          <span className="field-label">Type</span>
          <select
            aria-label="Order type"
            value={current.orderType}
            onChange={(event) => {
              const orderType = event.target.value as TicketState["orderType"];
              change({
                orderType,
                limitPrice: needsLimit(orderType) ? current.limitPrice : "",
                stopPrice: needsStop(orderType) ? current.stopPrice : "",
              });
            }}
          >
            {ORDER_TYPES.map((item) => (
              <option key={item} value={item}>
                {item.replace("_", " ")}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">Limit price</span>
          <input
            type="text"
            inputMode="decimal"
            aria-label="Limit price"
            disabled={!needsLimit(current.orderType)}
            placeholder={needsLimit(current.orderType) ? "0.00" : "—"}
            value={current.limitPrice}
            aria-invalid={problemFor("limitPrice")}
            onChange={(event) => change({ limitPrice: event.target.value })}
          />
        </label>
        <label className="field">
          <span className="field-label">Stop price</span>
          <input
            type="text"
            inputMode="decimal"
            aria-label="Stop price"
            disabled={!needsStop(current.orderType)}
            placeholder={needsStop(current.orderType) ? "0.00" : "—"}
            value={current.stopPrice}
            aria-invalid={problemFor("stopPrice")}
            onChange={(event) => change({ stopPrice: event.target.value })}
          />
        </label>
        <label className="field">
          <span className="field-label">Time in force</span>
          <select
            aria-label="Time in force"
            value={current.timeInForce}
            aria-invalid={problemFor("timeInForce")}
            onChange={(event) => change({ timeInForce: event.target.value as TicketState["timeInForce"] })}
          >
            {TIME_IN_FORCE.map((item) => (
              <option key={item} value={item}>
                {item.toUpperCase()}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">Strategy (optional)</span>
          <input type="text" aria-label="Strategy" value={current.strategy} onChange={(event) => change({ strategy: event.target.value })} />
        </label>
      </div>
      {symbolsQuery.isError && <ErrorBox title="Symbols unavailable" error={symbolsQuery.error} />}
      {shownProblems.length > 0 && (
        <ul className="form-problems" data-testid="ticket-problems">
          {shownProblems.map((item) => (
            <li key={item.message}>{item.message}</li>
          ))}
        </ul>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={submit.isPending}>
          {submit.isPending ? "Submitting…" : `Submit ${current.side} order`}
        </button>
      </div>
      <p className="muted small ticket-key" title="Sent as the Idempotency-Key header: a retry of this submission never makes a second order">
        key <code>{idempotencyKey.slice(0, 8)}</code>
      </p>
      {result && (
        <p className="ticket-result" data-testid="ticket-result">
          <Badge tone="good">{result.status}</Badge> {result.side} {result.quantity} {result.symbol} · order <code>{result.id.slice(0, 12)}</code>
        </p>
      )}
      {rejected && (
        <div className="rejection" role="alert" data-testid="ticket-rejection">
          <strong>Rejected by pre-trade risk</strong>
          <RejectionTable violations={violationsOf(rejected)} compact />
        </div>
      )}
      {submit.isError && !rejected && <ErrorBox title="The order was not submitted" error={submit.error} />}
    </form>
  );
}
