/** The strategy catalogue (GET /v1/backtests/strategies) in one normalized shape for the forms. */
import type { ParamValue } from "./types";

export type ParamKind = "int" | "float" | "str" | "bool";

export interface ParamSpec {
  name: string;
  kind: ParamKind;
  default: ParamValue;
  minimum: number | null;
  maximum: number | null;
  choices: string[];
  description: string;
}

export interface StrategyInfo {
  name: string;
  description: string;
  /** "entries_exits" strategies trade one symbol; "target_weights" ones may hold several. */
  output: string;
  needsPanel: boolean;
  params: ParamSpec[];
  /** [smaller, larger] pairs: the first parameter must be below the second. */
  lessThan: [string, string][];
}

// The registry names its types either way: Python's (int, float, str, bool) or JSON Schema's.
const KINDS: Record<string, ParamKind> = {
  int: "int",
  integer: "int",
  float: "float",
  number: "float",
  str: "str",
  string: "str",
  bool: "bool",
  boolean: "bool",
};

type Raw = Record<string, unknown>;

function asRecord(value: unknown): Raw {
  return typeof value === "object" && value !== null ? (value as Raw) : {};
}

function numberOrNull(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function normalizeParam(raw: unknown): ParamSpec {
  const entry = asRecord(raw);
  const kind = KINDS[String(entry.kind ?? entry.type ?? "")] ?? "str";
  const fallback: ParamValue = kind === "bool" ? false : kind === "str" ? "" : 0;
  const value = entry.default;
  const isValue = typeof value === "number" || typeof value === "string" || typeof value === "boolean";
  return {
    name: String(entry.name ?? ""),
    kind,
    default: isValue ? value : fallback,
    minimum: numberOrNull(entry.minimum),
    maximum: numberOrNull(entry.maximum),
    choices: Array.isArray(entry.choices) ? entry.choices.map(String) : [],
    description: typeof entry.description === "string" ? entry.description : "",
  };
}

/** "fast < slow" (the registry's text form) or ["fast", "slow"]. */
function lessThanPairs(entry: Raw): [string, string][] {
  const pairs: [string, string][] = [];
  for (const item of Array.isArray(entry.less_than) ? entry.less_than : []) {
    if (Array.isArray(item) && item.length === 2) {
      pairs.push([String(item[0]), String(item[1])]);
    }
  }
  for (const item of Array.isArray(entry.constraints) ? entry.constraints : []) {
    const match = typeof item === "string" ? /^\s*(\w+)\s*<\s*(\w+)\s*$/.exec(item) : null;
    if (match?.[1] && match[2]) {
      pairs.push([match[1], match[2]]);
    }
  }
  return pairs;
}

export function normalizeStrategies(body: unknown): StrategyInfo[] {
  const list = asRecord(body).strategies;
  return (Array.isArray(list) ? list : []).map((raw) => {
    const entry = asRecord(raw);
    return {
      name: String(entry.name ?? ""),
      description: typeof entry.description === "string" ? entry.description : "",
      output: typeof entry.output === "string" ? entry.output : "entries_exits",
      needsPanel: entry.needs_panel === true,
      params: (Array.isArray(entry.params) ? entry.params : []).map(normalizeParam),
      lessThan: lessThanPairs(entry),
    };
  });
}

/** True for strategies that trade exactly one symbol (entries/exits signals). */
export function tradesOneSymbol(strategy: StrategyInfo | null): boolean {
  return strategy?.output === "entries_exits";
}

/** How many symbols the strategy wants, said for the form, or null when the choice is fine. */
export function symbolCountProblem(strategy: StrategyInfo | null, count: number): string | null {
  if (count === 0) {
    return "Pick at least one symbol";
  }
  if (tradesOneSymbol(strategy) && count > 1) {
    return `${strategy?.name} trades one symbol: pick one`;
  }
  if (strategy?.needsPanel && count < 2) {
    return `${strategy.name} ranks a panel: pick at least two symbols`;
  }
  return null;
}
