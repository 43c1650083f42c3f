import { describe, expect, it } from "vitest";

import { limitsChanges, limitsToForm } from "./limits";

const limits = { max_order_quantity: "10000", price_collar_pct: "0.1", restricted_symbols: ["GME"], max_orders_per_second: 50, initial_margin: "0.5" };

describe("risk limits editor", () => {
  it("sends only the changed limits, typed as the API reads them", () => {
    // Given the form of the current limits with two edits
    const form = { ...limitsToForm(limits), max_order_quantity: "500", restricted_symbols: "gme, amc" };
    // When diffed / Then only those two go, the list upper-cased
    expect(limitsChanges(limits, form)).toEqual({
      changes: { max_order_quantity: "500", restricted_symbols: ["GME", "AMC"] },
      problems: [],
    });
  });

  it("names the field and the value of a bad limit", () => {
    const form = { ...limitsToForm(limits), price_collar_pct: "2", max_orders_per_second: "1.5", initial_margin: "0" };
    expect(limitsChanges(limits, form).problems).toEqual([
      "price_collar_pct is a fraction in [0, 1], got 2",
      "max_orders_per_second must be a whole number, got 1.5",
      "initial_margin is a fraction in (0, 1], got 0",
    ]);
  });
});
