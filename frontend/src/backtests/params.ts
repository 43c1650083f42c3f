/** Strategy parameters typed in by the user: one value, a list or range for a sweep grid, the grid's size. */
import type { ParamSpec } from "./strategies";
import type { ParamValue } from "./types";

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

/** A grid expands at most this many values per parameter (the API runs at most 5,000 configurations). */
export const MAX_LIST_VALUES = 5_000;
export const MAX_SWEEP_CONFIGS = 5_000;

function withinBounds(spec: ParamSpec, value: number): string | null {
  if (spec.minimum !== null && value < spec.minimum) {
    return `${spec.name} must be ≥ ${spec.minimum}, got ${value}`;
  }
  if (spec.maximum !== null && value > spec.maximum) {
    return `${spec.name} must be ≤ ${spec.maximum}, got ${value}`;
  }
  return null;
}

function parseNumber(text: string): number | null {
  const trimmed = text.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(trimmed)) {
    return null;
  }
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

/** One value of the parameter's type, within its bounds and choices. */
export function parseParamValue(text: string, spec: ParamSpec): Parsed<ParamValue> {
  const trimmed = text.trim();
  if (spec.kind === "bool") {
    const lower = trimmed.toLowerCase();
    return lower === "true" || lower === "false" ? ok(lower === "true") : fail(`${spec.name} must be true or false`);
  }
  if (spec.kind === "str") {
    if (spec.choices.length > 0 && !spec.choices.includes(trimmed)) {
      return fail(`${spec.name} must be one of ${spec.choices.join(", ")}, got “${trimmed}”`);
    }
    return trimmed ? ok(trimmed) : fail(`${spec.name} needs a value`);
  }
  const value = parseNumber(trimmed);
  if (value === null) {
    return fail(`${spec.name} must be a number, got “${trimmed}”`);
  }
  if (spec.kind === "int" && !Number.isInteger(value)) {
    return fail(`${spec.name} must be a whole number, got ${trimmed}`);
  }
  const problem = withinBounds(spec, value);
  return problem ? fail(problem) : ok(value);
}

/** start:stop:step, both ends included when the steps land on stop (floats rounded to 10 digits). */
function expandRange(text: string, spec: ParamSpec): Parsed<number[]> {
  const parts = text.split(":").map((part) => parseNumber(part));
  const [start, stop, given] = parts;
  const step = given ?? (spec.kind === "int" ? 1 : null);
  if (parts.length < 2 || parts.length > 3 || start == null || stop == null || step == null) {
    return fail(`${spec.name}: a range is start:stop:step, got “${text}”`);
  }
  if (step <= 0 || stop < start) {
    return fail(`${spec.name}: a range needs step > 0 and start ≤ stop, got “${text}”`);
  }
  const count = Math.floor((stop - start) / step + 1e-9) + 1;
  if (count > MAX_LIST_VALUES) {
    return fail(`${spec.name}: “${text}” has ${count} values, at most ${MAX_LIST_VALUES}`);
  }
  return ok(Array.from({ length: count }, (_, i) => Number((start + i * step).toFixed(10))));
}

/**
 * A sweep grid's values for one parameter: a comma (or space) separated list, where numeric parameters
 * also take ranges "start:stop:step" ("10:50:10" is 10, 20, 30, 40, 50). Duplicates are dropped, order kept.
 */
export function parseValueList(text: string, spec: ParamSpec): Parsed<ParamValue[]> {
  const items = text.split(/[,\s]+/).filter((item) => item !== "");
  if (items.length === 0) {
    return fail(`${spec.name}: no values`);
  }
  const values: ParamValue[] = [];
  for (const item of items) {
    const numeric = spec.kind === "int" || spec.kind === "float";
    const expanded: Parsed<ParamValue[]> = numeric && item.includes(":") ? expandRange(item, spec) : ok([item]);
    if (!expanded.ok) {
      return expanded;
    }
    for (const raw of expanded.value) {
      const parsed = parseParamValue(String(raw), spec);
      if (!parsed.ok) {
        return parsed;
      }
      if (!values.includes(parsed.value)) {
        values.push(parsed.value);
      }
    }
    if (values.length > MAX_LIST_VALUES) {
      return fail(`${spec.name}: more than ${MAX_LIST_VALUES} values`);
    }
  }
  return ok(values);
}

/** Number of configurations of a grid (the product of the list lengths; 0 for an empty grid). */
export function gridSize(grid: Record<string, readonly unknown[]>): number {
  const lists = Object.values(grid);
  return lists.length === 0 ? 0 : lists.reduce((size, list) => size * list.length, 1);
}

/** "fast=10, slow=50" into a parameter map, values typed loosely (for a strategy the catalogue lacks). */
export function parseAssignments(text: string): Parsed<Record<string, ParamValue>> {
  const result: Record<string, ParamValue> = {};
  for (const item of text.split(/[,\n;]+/).map((part) => part.trim()).filter(Boolean)) {
    const match = /^([A-Za-z_]\w*)\s*[=:]\s*(.+)$/.exec(item);
    if (!match?.[1] || !match[2]) {
      return fail(`“${item}” is not name=value`);
    }
    result[match[1]] = looseValue(match[2]);
  }
  return ok(result);
}

/** true/false, a number, or the text itself. */
export function looseValue(text: string): ParamValue {
  const trimmed = text.trim();
  if (trimmed === "true" || trimmed === "false") {
    return trimmed === "true";
  }
  return parseNumber(trimmed) ?? trimmed;
}

/** A value shown in an input or a table cell. */
export function paramText(value: ParamValue | undefined): string {
  return value === undefined ? "" : String(value);
}

/**
 * How many configurations of the grid break a "smaller < larger" rule (the API refuses a sweep with any);
 * parameters missing from the grid take their fixed value.
 */
export function countRuleBreaks(
  grid: Record<string, readonly ParamValue[]>,
  fixed: Record<string, ParamValue>,
  lessThan: readonly [string, string][],
): number {
  const names = Object.keys(grid);
  if (gridSize(grid) > MAX_SWEEP_CONFIGS || lessThan.length === 0) {
    return 0;
  }
  let breaks = 0;
  const visit = (index: number, config: Record<string, ParamValue>) => {
    if (index === names.length) {
      const broken = ([a, b]: [string, string]) =>
        config[a] !== undefined && config[b] !== undefined && !(Number(config[a]) < Number(config[b]));
      breaks += lessThan.some(broken) ? 1 : 0;
      return;
    }
    const name = names[index]!;
    for (const value of grid[name] ?? []) {
      visit(index + 1, { ...config, [name]: value });
    }
  };
  visit(0, { ...fixed });
  return breaks;
}

/** Parameters that differ between configurations (a table column each) and those all share (said once). */
export function splitParams(configs: readonly Record<string, ParamValue>[]): {
  varying: string[];
  constant: [string, ParamValue][];
} {
  const names = [...new Set(configs.flatMap((config) => Object.keys(config)))];
  const varying = names.filter((name) => new Set(configs.map((config) => paramText(config[name]))).size > 1);
  const constant = names
    .filter((name) => !varying.includes(name))
    .map((name): [string, ParamValue] => [name, configs[0]?.[name] ?? ""]);
  return { varying, constant };
}
