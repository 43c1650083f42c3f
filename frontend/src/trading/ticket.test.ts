import { describe, expect, it } from "vitest";

import type { OrderView, TicketState } from "./ticket";
import { buildOrderRequest, buildReplace, defaultTicket, onTick, ticketProblems, violationsOf } from "./ticket";

const base: TicketState = { ...defaultTicket, symbol: "SP500", quantity: "10", orderType: "limit", limitPrice: "100.25" };
const fields = (ticket: TicketState) => ticketProblems(ticket, ["SP500", "NASDAQ"]).map((p) => p.field);

describe("order ticket validation (the API's rules)", () => {
  it("accepts a valid limit order and sends exact decimal strings", () => {
    // Given a valid limit ticket / When checked and built
    expect(ticketProblems(base, ["SP500"])).toEqual([]);
    // Then the request carries the price as text (no float rounding) and no stop price
    expect(buildOrderRequest(base)).toEqual({
      symbol: "SP500", side: "buy", quantity: "10", order_type: "limit", time_in_force: "day", limit_price: "100.25",
    });
  });

  it("refuses quantity <= 0 and fractional shares", () => {
    expect(fields({ ...base, quantity: "0" })).toEqual(["quantity"]);
    expect(fields({ ...base, quantity: "-5" })).toEqual(["quantity"]);
    expect(ticketProblems({ ...base, quantity: "1.5" })[0]!.message).toBe(
      "quantity 1.5 is not a multiple of the lot size 1 (whole shares)",
    );
    expect(fields({ ...base, quantity: "10.000" })).toEqual([]);
  });

  it("needs limit_price for limit/stop_limit and stop_price for stop/stop_limit", () => {
    expect(fields({ ...base, limitPrice: "" })).toEqual(["limitPrice"]);
    expect(fields({ ...base, orderType: "stop", limitPrice: "", stopPrice: "" })).toEqual(["stopPrice"]);
    expect(fields({ ...base, orderType: "stop_limit", stopPrice: "" })).toEqual(["stopPrice"]);
    expect(fields({ ...base, orderType: "stop_limit", stopPrice: "99" })).toEqual([]);
  });

  it("refuses a price on a market order", () => {
    expect(ticketProblems({ ...base, orderType: "market" })[0]!.message).toBe("a market order takes no limit_price");
    expect(fields({ ...base, orderType: "market", limitPrice: "" })).toEqual([]);
  });

  it("refuses prices <= 0 and off the 0.01 tick", () => {
    expect(fields({ ...base, limitPrice: "0" })).toEqual(["limitPrice"]);
    expect(ticketProblems({ ...base, limitPrice: "100.255" })[0]!.message).toBe(
      "limit_price 100.255 is not a multiple of the tick size 0.01",
    );
    expect(onTick("100.250")).toBe(true);
    expect(onTick("0.1")).toBe(true);
  });

  it("allows IOC/FOK only for market and limit orders", () => {
    expect(fields({ ...base, timeInForce: "ioc" })).toEqual([]);
    expect(fields({ ...base, orderType: "stop", limitPrice: "", stopPrice: "90", timeInForce: "fok" })).toEqual(["timeInForce"]);
  });

  it("names an unknown symbol", () => {
    expect(ticketProblems({ ...base, symbol: "ZZZ" }, ["SP500"])[0]!.message).toContain("Unknown symbol ZZZ");
  });
});

const order = {
  id: "ab", quantity: "100", filled_quantity: "40", limit_price: "10.00", stop_price: null,
} as unknown as OrderView;

describe("replace", () => {
  it("sends only what changed", () => {
    expect(buildReplace(order, "100", "10.5", "")).toEqual({ request: { limit_price: "10.5" }, problems: [] });
    expect(buildReplace(order, "120", "10.00", "").request).toEqual({ quantity: "120" });
  });

  it("refuses a quantity at or below the filled part, and no change at all", () => {
    expect(buildReplace(order, "40", "10", "").problems).toEqual(["quantity 40 must exceed the 40 already filled"]);
    expect(buildReplace(order, "100", "10", "").problems).toEqual(["Nothing changed: edit the quantity or a price"]);
  });
});

describe("violationsOf", () => {
  it("reads the API's rejection list", () => {
    const rejected = { rejection: [{ rule: "max_order_quantity", message: "too big", limit: "1000", actual: "5000" }] };
    expect(violationsOf(rejected)).toEqual([{ rule: "max_order_quantity", message: "too big", limit: "1000", actual: "5000" }]);
    expect(violationsOf({ rejection: null })).toEqual([]);
  });
});
