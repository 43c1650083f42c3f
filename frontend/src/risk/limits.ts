/** The risk limits editor: the account's limits (strings from the API) as form text, and the PUT body. */

export const LIMIT_LABELS: Record<string, [label: string, hint: string]> = {
  max_order_quantity: ["Max order quantity", "shares per order"],
  max_order_notional: ["Max order notional", "quantity × price per order"],
  price_collar_pct: ["Price collar", "fraction of the last price (0.05 = 5 %)"],
  max_position_quantity: ["Max position quantity", "shares per symbol, long or short"],
  max_gross_exposure: ["Max gross exposure", "sum of |market value|"],
  max_net_exposure: ["Max net exposure", "|sum of market value|"],
  restricted_symbols: ["Restricted symbols", "comma separated"],
  initial_margin: ["Initial margin", "fraction (0.5 = Reg T 2:1)"],
  max_orders_per_second: ["Max orders per second", "per account"],
  daily_loss_limit: ["Daily loss limit", "loss that trips the kill switch"],
};

export type LimitsForm = Record<string, string>;

export function limitsToForm(limits: Record<string, unknown>): LimitsForm {
  const form: LimitsForm = {};
  for (const [key, value] of Object.entries(limits)) {
    form[key] = Array.isArray(value) ? value.join(", ") : String(value ?? "");
  }
  return form;
}

/** Changed limits only, checked as the API checks them; problems name the field and the value. */
export function limitsChanges(
  original: Record<string, unknown>,
  form: LimitsForm,
): { changes: Record<string, unknown>; problems: string[] } {
  const before = limitsToForm(original);
  const changes: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, raw] of Object.entries(form)) {
    const text = raw.trim();
    if (text === (before[key] ?? "").trim()) {
      continue;
    }
    if (key === "restricted_symbols") {
      changes[key] = text ? text.split(",").map((item) => item.trim().toUpperCase()).filter(Boolean) : [];
      continue;
    }
    const value = Number(text);
    if (text === "" || !Number.isFinite(value)) {
      problems.push(`${key} must be a number, got ${text || "nothing"}`);
    } else if (value < 0) {
      problems.push(`${key} must be ≥ 0, got ${text}`);
    } else if (key === "price_collar_pct" && value > 1) {
      problems.push(`price_collar_pct is a fraction in [0, 1], got ${text}`);
    } else if (key === "initial_margin" && (value <= 0 || value > 1)) {
      problems.push(`initial_margin is a fraction in (0, 1], got ${text}`);
    } else if (key === "max_orders_per_second" && !Number.isInteger(value)) {
      problems.push(`max_orders_per_second must be a whole number, got ${text}`);
    } else {
      changes[key] = key === "max_orders_per_second" ? value : text;
    }
  }
  return { changes, problems };
}
