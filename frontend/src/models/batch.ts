/** Batch scoring of a registered model into the lake: the form (the API's BatchPredictionRequest rules checked
 * client-side), the job's progress as the page shows it, and the jobs this tab started per model. */
import type { components } from "../api/schema";

export type BatchRequest = components["schemas"]["BatchPredictionRequest"];
export type BatchInfo = components["schemas"]["BatchPredictionInfo"];

export const MAX_BATCH_SYMBOLS = 100;
/** The job's steps as services/ml_batch.py records them. */
export const BATCH_STEPS = ["queued", "preparing input", "scoring", "written", "done"] as const;
const FINAL = ["SUCCEEDED", "FAILED"];

export interface BatchForm {
  symbols: string[];
  start: string;
  end: string;
}

function isDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    return false;
  }
  const time = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === text;
}

export function batchProblems(form: BatchForm): string[] {
  const problems: string[] = [];
  if (form.symbols.length === 0) {
    problems.push("Choose at least one symbol to score");
  } else if (form.symbols.length > MAX_BATCH_SYMBOLS) {
    problems.push(`Choose at most ${MAX_BATCH_SYMBOLS} symbols, got ${form.symbols.length}`);
  }
  for (const [name, text] of [["start", form.start], ["end", form.end]] as const) {
    if (text && !isDay(text)) {
      problems.push(`${name} must be a date YYYY-MM-DD, got ${text}`);
    }
  }
  if (form.start && form.end && isDay(form.start) && isDay(form.end) && form.start > form.end) {
    problems.push(`empty window: start ${form.start} is after end ${form.end}`);
  }
  return problems;
}

/** The POST body: the symbols in the order chosen, the dates only when given (the API defaults to all bars). */
export function buildBatchRequest(form: BatchForm): BatchRequest {
  const body: BatchRequest = { symbols: [...new Set(form.symbols)] };
  if (form.start) body.start = form.start;
  if (form.end) body.end = form.end;
  return body;
}

/** The window the form opens with: the model's validation period onwards (its out-of-sample data). */
export function defaultBatchForm(lineage: Record<string, unknown>): BatchForm {
  const symbols = Array.isArray(lineage.symbols) ? lineage.symbols.filter((s): s is string => typeof s === "string") : [];
  const range = (lineage.data_range ?? {}) as { validation_from?: unknown };
  const from = typeof range.validation_from === "string" && isDay(range.validation_from.slice(0, 10)) ? range.validation_from.slice(0, 10) : "";
  return { symbols, start: from, end: "" };
}

export function isFinal(status: string | undefined): boolean {
  return FINAL.includes(String(status));
}

export interface BatchView {
  status: string;
  tone: "good" | "bad" | "info";
  step: string;
  /** Share of the steps done, 0..1 (1 when it succeeded). */
  share: number;
  symbols: { symbol: string; rows: number }[];
  rows: number | null;
  from: string | null;
  to: string | null;
  featureSet: string | null;
  transformJob: string | null;
  output: string | null;
  glueTable: string | null;
  error: string | null;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/** What the page shows of a job: status, progress through the steps, rows per symbol, where the output went. */
export function batchView(job: BatchInfo): BatchView {
  const progress = (job.progress ?? {}) as Record<string, unknown>;
  const step = job.step ?? "queued";
  const at = BATCH_STEPS.indexOf(step as (typeof BATCH_STEPS)[number]);
  const share = job.status === "SUCCEEDED" ? 1 : (Math.max(0, at) + 1) / BATCH_STEPS.length;
  const symbols = Array.isArray(progress.symbols)
    ? progress.symbols
        .map((part) => part as { symbol?: unknown; rows?: unknown })
        .filter((part) => typeof part.symbol === "string")
        .map((part) => ({ symbol: String(part.symbol), rows: typeof part.rows === "number" ? part.rows : 0 }))
    : [];
  return {
    status: job.status,
    tone: job.status === "SUCCEEDED" ? "good" : job.status === "FAILED" ? "bad" : "info",
    step,
    share,
    symbols,
    rows: typeof progress.rows === "number" ? progress.rows : null,
    from: text(progress.from),
    to: text(progress.to),
    featureSet: text(progress.feature_set),
    transformJob: text(progress.transform_job),
    output: text(progress.output),
    glueTable: text(progress.glue_table),
    error: text(job.error),
  };
}

const STORE_KEY = "trade2026.batchJobs";
const PER_MODEL = 5;

type Stored = Record<string, string[]>;

/** One list per signed-in user: the API shows a job to its owner only, so another user of the tab sees none. */
function key(owner: string): string {
  return `${STORE_KEY}.${owner}`;
}

function read(storage: Pick<Storage, "getItem">, owner: string): Stored {
  try {
    const value = JSON.parse(storage.getItem(key(owner)) ?? "{}") as unknown;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return {};
    }
    const result: Stored = {};
    for (const [model, ids] of Object.entries(value)) {
      if (Array.isArray(ids)) {
        result[model] = ids.filter((id): id is string => typeof id === "string" && /^[0-9a-f]{32}$/.test(id));
      }
    }
    return result;
  } catch {
    return {};
  }
}

/** The batch jobs this user started for a model in this tab, newest first (the API lists none: GET needs the id). */
export function storedBatches(storage: Pick<Storage, "getItem">, owner: string, modelId: string): string[] {
  return read(storage, owner)[modelId] ?? [];
}

/** Remembers a new job (newest first, at most five per model); returns the model's list. */
export function rememberBatch(storage: Pick<Storage, "getItem" | "setItem">, owner: string, modelId: string, batchId: string): string[] {
  const all = read(storage, owner);
  const next = [batchId, ...(all[modelId] ?? []).filter((id) => id !== batchId)].slice(0, PER_MODEL);
  storage.setItem(key(owner), JSON.stringify({ ...all, [modelId]: next }));
  return next;
}
