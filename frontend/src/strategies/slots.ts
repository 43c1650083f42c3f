/**
 * Deployment slots: the deploy / hot-swap request with the API's own checks (services/strategies.py: SlotRequest,
 * deploy), the states a slot or a shadow accepts (domain/strategy_lifecycle.py DEPLOYABLE / SHADOWABLE), and the
 * decisions log paired per bar so that the live decision and the shadow's stand side by side.
 */
import type { components } from "../api/schema";

export type SlotView = components["schemas"]["SlotView"];
export type SlotRequest = components["schemas"]["SlotRequest"];

/** The path pattern of a slot name (functions/strategies/app.py `Slot`). */
export const SLOT_NAME = /^[A-Za-z0-9_-]{1,40}$/;
/** The symbol pattern of the API (services/trading_models.py SYMBOL_PATTERN). */
export const SYMBOL = /^[A-Za-z0-9^.-]{1,32}$/;
export const MAX_CAPITAL = 1e10;
/** Versions a slot may run (they place orders) ... */
export const DEPLOYABLE: readonly string[] = ["paper", "live"];
/** ... and versions that may run beside one as its shadow (no orders). */
export const SHADOWABLE: readonly string[] = ["validated", "paper", "live"];

/** A version of a strategy, as a slot's `previous` and `shadow` name it. */
export interface VersionRef {
  strategy_id: string;
  version: number;
}

/** `previous` / `shadow` of a slot (free-form objects in the OpenAPI document), or null. */
export function refOf(value: unknown): VersionRef | null {
  if (!value || typeof value !== "object") {
    return null;
  }
  const record = value as Record<string, unknown>;
  const version = Number(record.version);
  if (typeof record.strategy_id !== "string" || !Number.isInteger(version) || version < 1) {
    return null;
  }
  return { strategy_id: record.strategy_id, version };
}

/** "<id>@<version>" (how decisions and orders name the version that made them) as a reference. */
export function parseStrategyRef(text: string): VersionRef | null {
  const match = /^([a-f0-9]{12})@(\d+)$/.exec(text);
  return match ? { strategy_id: match[1] as string, version: Number(match[2]) } : null;
}

/** "MA crossover v2" when the library knows the strategy, else "<id> v2". */
export function refLabel(ref: VersionRef | null, names: ReadonlyMap<string, string>): string {
  if (!ref) {
    return "—";
  }
  return `${names.get(ref.strategy_id) ?? ref.strategy_id} v${ref.version}`;
}

export interface DeployForm {
  slot: string;
  strategyId: string;
  version: string;
  symbol: string;
  capital: string;
}

export const emptyDeployForm: DeployForm = { slot: "main", strategyId: "", version: "", symbol: "", capital: "" };

export interface DeployPlan {
  /** The request to send (null when there are problems). */
  request: SlotRequest | null;
  problems: string[];
  /** A new slot is created; otherwise the slot's version is hot-swapped at its current revision. */
  creates: boolean;
}

/**
 * The PUT /v1/accounts/{id}/slots/{slot} body for the form, or the problems (worded like the API's). A new slot
 * needs a symbol; an existing one is swapped with `expected_revision` set to the revision shown, so a change
 * made meanwhile (another tab, another user) is refused with 409 instead of being overwritten.
 */
export function planDeploy(form: DeployForm, existing: SlotView | null): DeployPlan {
  const problems: string[] = [];
  const slot = form.slot.trim();
  if (!SLOT_NAME.test(slot)) {
    problems.push("slot name: 1 to 40 letters, digits, - or _");
  }
  if (!form.strategyId) {
    problems.push("choose a strategy");
  }
  const version = Number(form.version);
  if (!form.version || !Number.isInteger(version) || version < 1) {
    problems.push("choose a version");
  }
  const symbol = form.symbol.trim().toUpperCase();
  if (symbol && !SYMBOL.test(symbol)) {
    problems.push(`symbol ${symbol}: 1 to 32 letters, digits, ^ . or -`);
  } else if (!symbol && !existing) {
    problems.push("symbol is required to create a slot");
  }
  let capital: number | null = null;
  if (form.capital.trim()) {
    capital = Number(form.capital);
    if (!Number.isFinite(capital) || capital <= 0 || capital > MAX_CAPITAL) {
      problems.push(`capital must be a number above 0 and at most 10,000,000,000, got ${form.capital}`);
    }
  }
  if (problems.length) {
    return { request: null, problems, creates: !existing };
  }
  const request: SlotRequest = { strategy_id: form.strategyId, version };
  if (symbol && symbol !== existing?.symbol) {
    request.symbol = symbol;
  }
  if (capital !== null) {
    request.capital = form.capital.trim();
  }
  if (existing) {
    request.expected_revision = existing.revision;
  }
  return { request, problems, creates: !existing };
}

/** Why a version in `state` cannot go where it is meant to (shown beside the form; the API decides). */
export function stateNote(state: string | undefined, allowed: readonly string[], what: string): string | null {
  if (!state || allowed.includes(state)) {
    return null;
  }
  return `this version is ${state}: ${what} needs one of ${allowed.join(", ")} (the API will refuse it)`;
}

export interface Decision {
  bar_id: string;
  mode: "live" | "shadow" | string;
  symbol: string;
  strategy: string;
  slot_revision: number;
  at: string;
  status: string;
  target: number | null;
  signal: number | null;
  inputs: Record<string, unknown> | null;
  plan: { side: string; quantity: string; key?: string }[] | null;
  orders: { id: string | null; status: string; side: string; quantity: string; rejection?: unknown }[] | null;
  error: string | null;
  cursor: string;
}

export interface DecisionPage {
  decisions: Decision[];
  next_cursor: string | null;
}

/** One bar of the explain log: what the live version decided and what the shadow would have done. */
export interface DecisionPair {
  barId: string;
  symbol: string;
  live: Decision | null;
  shadow: Decision | null;
}

/**
 * The decisions (newest first, as the API lists them) grouped per bar, in the order the bars first appear.
 * A bar decided only live (no shadow then) or only in shadow (the live decision is on another page) keeps
 * an empty side.
 */
export function pairDecisions(decisions: readonly Decision[]): DecisionPair[] {
  const pairs = new Map<string, DecisionPair>();
  for (const decision of decisions) {
    let pair = pairs.get(decision.bar_id);
    if (!pair) {
      pair = { barId: decision.bar_id, symbol: decision.symbol, live: null, shadow: null };
      pairs.set(decision.bar_id, pair);
    }
    if (decision.mode === "shadow") {
      pair.shadow ??= decision;
    } else {
      pair.live ??= decision;
    }
  }
  return [...pairs.values()];
}

/** The bar's time from its id ("SP500:1d:<start ns>"), or null for ids of another shape. */
export function barStart(barId: string): string | null {
  const match = /:(\d{16,20})$/.exec(barId);
  if (!match) {
    return null;
  }
  const ms = Number(BigInt(match[1] as string) / 1_000_000n);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** "buy 39" / "sell 10, short 5" for a decision's plan (what the shadow would have ordered), or "no order". */
export function planText(plan: Decision["plan"]): string {
  if (!plan || plan.length === 0) {
    return "no order";
  }
  return plan.map((leg) => `${leg.side} ${leg.quantity}`).join(", ");
}
