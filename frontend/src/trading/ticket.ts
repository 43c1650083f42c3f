/**
 * The order ticket: its form state, the client-side checks (the same rules as the API's
 * trade2026.domain.trading.orders.validate_order: tick 0.01, lot 1) and the request it sends.
 */
import type { components } from "../api/schema";

export type OrderRequest = components["schemas"]["OrderRequest"];
export type ReplaceRequest = components["schemas"]["ReplaceRequest"];
export type OrderView = components["schemas"]["OrderView"];
export type Side = OrderRequest["side"];
export type OrderType = OrderRequest["order_type"];
export type TimeInForce = OrderRequest["time_in_force"];

export const SIDES: Side[] = ["buy", "sell", "short", "cover"];
export const ORDER_TYPES: OrderType[] = ["market", "limit", "stop", "stop_limit"];
export const TIME_IN_FORCE: TimeInForce[] = ["day", "gtc", "ioc", "fok"];
export const OPEN_STATUSES = ["accepted", "partially_filled"];
export const STATUSES = ["new", "accepted", "partially_filled", "filled", "canceled", "expired", "rejected"];
export const TICK_SIZE_CENTS = 1;

export interface TicketState {
  symbol: string;
  side: Side;
  quantity: string;
  orderType: OrderType;
  limitPrice: string;
  stopPrice: string;
  timeInForce: TimeInForce;
  strategy: string;
}

export const defaultTicket: TicketState = {
  symbol: "",
  side: "buy",
  quantity: "100",
  orderType: "limit",
  limitPrice: "",
  stopPrice: "",
  timeInForce: "day",
  strategy: "",
};

export const needsLimit = (type: OrderType) => type === "limit" || type === "stop_limit";
export const needsStop = (type: OrderType) => type === "stop" || type === "stop_limit";

/** A problem with one field, worded like the API's. */
export interface Problem {
  field: keyof TicketState;
  message: string;
}

const DECIMAL = /^\d+(\.\d+)?$/;

/** True when the decimal text is a whole number of cents (no float rounding: the text is inspected). */
export function onTick(text: string): boolean {
  const [, fraction = ""] = text.split(".");
  return fraction.replace(/0+$/, "").length <= 2;
}

function checkPrice(field: "limitPrice" | "stopPrice", label: string, text: string, problems: Problem[]) {
  const value = text.trim();
  if (!DECIMAL.test(value) || Number(value) <= 0) {
    problems.push({ field, message: `${label} must be a number > 0, got ${value || "nothing"}` });
  } else if (!onTick(value)) {
    problems.push({ field, message: `${label} ${value} is not a multiple of the tick size 0.01` });
  }
}

/** Every reason the API would refuse this ticket before risk checks (empty when it may be sent). */
export function ticketProblems(ticket: TicketState, symbols: readonly string[] | null = null): Problem[] {
  const problems: Problem[] = [];
  const symbol = ticket.symbol.trim().toUpperCase();
  if (!symbol) {
    problems.push({ field: "symbol", message: "Choose a symbol" });
  } else if (symbols && symbols.length > 0 && !symbols.includes(symbol)) {
    problems.push({ field: "symbol", message: `Unknown symbol ${symbol}: not in GET /v1/marketdata/symbols` });
  }
  const quantity = ticket.quantity.trim();
  if (!DECIMAL.test(quantity) || Number(quantity) <= 0) {
    problems.push({ field: "quantity", message: `quantity must be > 0, got ${quantity || "nothing"}` });
  } else if (!/^\d+(\.0+)?$/.test(quantity)) {
    problems.push({ field: "quantity", message: `quantity ${quantity} is not a multiple of the lot size 1 (whole shares)` });
  }
  if (needsLimit(ticket.orderType)) {
    checkPrice("limitPrice", "limit_price", ticket.limitPrice, problems);
  } else if (ticket.limitPrice.trim()) {
    problems.push({ field: "limitPrice", message: `a ${ticket.orderType} order takes no limit_price` });
  }
  if (needsStop(ticket.orderType)) {
    checkPrice("stopPrice", "stop_price", ticket.stopPrice, problems);
  } else if (ticket.stopPrice.trim()) {
    problems.push({ field: "stopPrice", message: `a ${ticket.orderType} order takes no stop_price` });
  }
  if ((ticket.timeInForce === "ioc" || ticket.timeInForce === "fok") && needsStop(ticket.orderType)) {
    problems.push({
      field: "timeInForce",
      message: `${ticket.timeInForce.toUpperCase()} is only for market and limit orders, not ${ticket.orderType}`,
    });
  }
  return problems;
}

/** The request body (prices and quantity as exact decimal strings). Call only when there are no problems. */
export function buildOrderRequest(ticket: TicketState): OrderRequest {
  const request: OrderRequest = {
    symbol: ticket.symbol.trim().toUpperCase(),
    side: ticket.side,
    quantity: ticket.quantity.trim(),
    order_type: ticket.orderType,
    time_in_force: ticket.timeInForce,
  };
  if (needsLimit(ticket.orderType)) {
    request.limit_price = ticket.limitPrice.trim();
  }
  if (needsStop(ticket.orderType)) {
    request.stop_price = ticket.stopPrice.trim();
  }
  if (ticket.strategy.trim()) {
    request.strategy = ticket.strategy.trim();
  }
  return request;
}

/** A replace of an open order: only what changed is sent; null when nothing changed or a value is bad. */
export function buildReplace(
  order: OrderView,
  quantity: string,
  limitPrice: string,
  stopPrice: string,
): { request: ReplaceRequest | null; problems: string[] } {
  const problems: string[] = [];
  const request: ReplaceRequest = {};
  const q = quantity.trim();
  if (q && Number(q) !== Number(order.quantity)) {
    if (!/^\d+(\.0+)?$/.test(q) || Number(q) <= 0) {
      problems.push(`quantity must be a whole number > 0, got ${q}`);
    } else if (Number(q) <= Number(order.filled_quantity)) {
      problems.push(`quantity ${q} must exceed the ${order.filled_quantity} already filled`);
    } else {
      request.quantity = q;
    }
  }
  for (const [key, text, current] of [
    ["limit_price", limitPrice.trim(), order.limit_price],
    ["stop_price", stopPrice.trim(), order.stop_price],
  ] as const) {
    if (current === null || !text || Number(text) === Number(current)) {
      continue;
    }
    if (!DECIMAL.test(text) || Number(text) <= 0) {
      problems.push(`${key} must be a number > 0, got ${text}`);
    } else if (!onTick(text)) {
      problems.push(`${key} ${text} is not a multiple of the tick size 0.01`);
    } else {
      request[key] = text;
    }
  }
  const changed = Object.keys(request).length > 0;
  if (!changed && problems.length === 0) {
    problems.push("Nothing changed: edit the quantity or a price");
  }
  return { request: changed && problems.length === 0 ? request : null, problems };
}

/** A risk violation as the API returns it in `rejection`. */
export interface Violation {
  rule: string;
  message: string;
  limit?: unknown;
  actual?: unknown;
}

export function violationsOf(order: { rejection?: unknown[] | null } | null | undefined): Violation[] {
  return (order?.rejection ?? []).map((item) => {
    const entry = (item ?? {}) as Record<string, unknown>;
    return {
      rule: String(entry.rule ?? "unknown"),
      message: String(entry.message ?? ""),
      limit: entry.limit,
      actual: entry.actual,
    };
  });
}

/** A fresh Idempotency-Key for one submission (a retry of the same submission reuses it). */
export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") {
    return crypto.randomUUID();
  }
  return `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}`;
}
