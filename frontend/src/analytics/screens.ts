/**
 * The screener form and the screen definitions the API runs and saves (services/scanning.py ScreenDefinition:
 * filter, sort, limit, symbols). The form edits "all of" a list of simple conditions and one sort key; a saved
 * screen written another way (any / not / between, several sort keys) is explained instead of half-loaded.
 */

export interface Condition {
  field: string;
  op: string;
  value: string;
}

export type SortOrder = "asc" | "desc";

export interface ScreenerState {
  conditions: Condition[];
  /** "" sorts by nothing (the API keeps the universe's order). */
  sortField: string;
  order: SortOrder;
  limit: string;
  /** The universe (null: every daily symbol). */
  symbols: string[] | null;
}

export const defaultScreener: ScreenerState = {
  conditions: [{ field: "return_20d", op: ">", value: "0" }],
  sortField: "return_20d",
  order: "desc",
  limit: "50",
  symbols: null,
};

export interface ScreenDefinition {
  filter: { all: { field: string; op: string; value: number }[] } | null;
  sort: { field: string; order: SortOrder }[];
  limit: number;
  symbols: string[] | null;
}

export interface SavedScreen {
  id: string;
  name: string;
  schedule: "daily" | null;
  created_at: string;
  definition: Record<string, unknown>;
  last_run: { as_of?: string; matched?: number; symbols?: string[] } | null;
}

export const MAX_NAME = 100;
export const MAX_LIMIT = 1000;

/** The filter language's JSON: {"all": [{field, op, value}, ...]}; problems name the row. */
export function buildFilter(conditions: Condition[]): { filter: ScreenDefinition["filter"]; problems: string[] } {
  const problems: string[] = [];
  const all = conditions.flatMap((row, index) => {
    const value = Number(row.value);
    if (row.value.trim() === "" || !Number.isFinite(value)) {
      problems.push(`condition ${index + 1} (${row.field}): value must be a number, got ${row.value || "nothing"}`);
      return [];
    }
    return [{ field: row.field, op: row.op, value }];
  });
  return { filter: all.length ? { all } : null, problems };
}

/** What the form describes, as the API's screen definition (or the problems). */
export function screenDefinition(state: ScreenerState): { definition: ScreenDefinition | null; problems: string[] } {
  const { filter, problems } = buildFilter(state.conditions);
  const limit = Number(state.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    problems.push(`rows must be a whole number in [1, ${MAX_LIMIT}], got ${state.limit || "nothing"}`);
  }
  if (problems.length) {
    return { definition: null, problems };
  }
  const sort = state.sortField ? [{ field: state.sortField, order: state.order }] : [];
  return { definition: { filter, sort, limit, symbols: state.symbols }, problems };
}

/** The POST /v1/screens body: the definition with a name (and the daily schedule when asked). */
export function saveBody(name: string, state: ScreenerState, daily: boolean) {
  const { definition, problems } = screenDefinition(state);
  const trimmed = name.trim();
  if (!trimmed) {
    problems.unshift("give the screen a name");
  } else if (trimmed.length > MAX_NAME) {
    problems.unshift(`the name has ${trimmed.length} characters; at most ${MAX_NAME}`);
  }
  if (!definition || problems.length) {
    return { body: null, problems };
  }
  return { body: { ...definition, name: trimmed, schedule: daily ? ("daily" as const) : null }, problems };
}

function isCondition(node: unknown): node is { field: string; op: string; value: number } {
  if (!node || typeof node !== "object") return false;
  const record = node as Record<string, unknown>;
  const keys = Object.keys(record).sort().join(",");
  return keys === "field,op,value" && typeof record.field === "string" && typeof record.op === "string" && typeof record.value === "number";
}

/** The form for a saved definition, or why the form cannot show it. */
export function stateFromDefinition(definition: Record<string, unknown>): { state: ScreenerState | null; problem: string | null } {
  const filter = definition.filter ?? null;
  let nodes: unknown[];
  if (filter === null) {
    nodes = [];
  } else if (isCondition(filter)) {
    nodes = [filter];
  } else if (typeof filter === "object" && Object.keys(filter).join() === "all" && Array.isArray((filter as { all: unknown }).all)) {
    nodes = (filter as { all: unknown[] }).all;
  } else {
    return { state: null, problem: "its filter uses any/not groups: the form shows only “all of” simple conditions" };
  }
  if (!nodes.every(isCondition)) {
    return { state: null, problem: "its filter nests groups or compares with a range (between): the form shows only “all of” simple conditions" };
  }
  const sort = Array.isArray(definition.sort) ? (definition.sort as { field?: unknown; order?: unknown }[]) : [];
  if (sort.length > 1) {
    return { state: null, problem: `it sorts by ${sort.length} fields: the form sorts by one` };
  }
  const first = sort[0];
  const limit = typeof definition.limit === "number" ? definition.limit : 50;
  const symbols = Array.isArray(definition.symbols) ? definition.symbols.map(String) : null;
  return {
    state: {
      conditions: nodes.map((node) => ({ field: node.field, op: node.op, value: String(node.value) })),
      sortField: first && typeof first.field === "string" ? first.field : "",
      order: first?.order === "asc" ? "asc" : "desc",
      limit: String(limit),
      symbols,
    },
    problem: null,
  };
}

/** "return_20d > 0.05 · rsi_14 < 30 · by return_20d desc" (a saved screen in one line). */
export function describeDefinition(definition: Record<string, unknown>): string {
  const { state } = stateFromDefinition(definition);
  if (!state) {
    return "custom filter (any / not / between)";
  }
  const parts = state.conditions.map((row) => `${row.field} ${row.op} ${row.value}`);
  if (state.sortField) parts.push(`by ${state.sortField} ${state.order}`);
  if (state.symbols) parts.push(`${state.symbols.length} symbols`);
  return parts.join(" · ") || "everything";
}
