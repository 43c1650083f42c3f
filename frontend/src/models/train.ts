/** The training form: its state, the API's validation rules (services/ml_dataset.py TrainRequest and
 * validate_request) checked client-side, and the POST /v1/models/train body it builds. */
import type { components } from "../api/schema";

export type TrainRequest = components["schemas"]["TrainRequest"];
export type LabelKind = NonNullable<TrainRequest["label"]>["kind"];

/** The API's bounds (pydantic Field(ge, le) and the checks of validate_request). */
export const LIMITS = {
  symbols: 50,
  featureSetLength: 64,
  maxTrials: 16,
  cvFolds: 10,
  cpcvGroups: 12,
  cpcvTestGroups: 6,
  cpcvSplits: 45,
} as const;

/** What the form offers when combinatorial purged CV is switched on: 6 groups, 2 test groups (15 splits,
 * 5 backtest paths). */
export const CPCV_ON = { groups: "6", testGroups: "2" } as const;

export interface TrainForm {
  symbols: string[];
  start: string;
  end: string;
  featureSet: string;
  label: LabelKind;
  horizon: string;
  maxTrials: string;
  cvFolds: string;
  deploy: boolean;
  /** Combinatorial purged CV (off by default: cpcv_groups 0). */
  cpcv?: boolean;
  cpcvGroups?: string;
  cpcvTestGroups?: string;
}

export function defaultTrainForm(): Required<TrainForm> {
  return {
    symbols: [],
    start: "2012-01-01",
    end: "",
    featureSet: "alpha_v1",
    label: "triple_barrier",
    horizon: "10",
    maxTrials: "1",
    cvFolds: "0",
    deploy: true,
    cpcv: false,
    cpcvGroups: CPCV_ON.groups,
    cpcvTestGroups: CPCV_ON.testGroups,
  };
}

/** n choose k (0 outside 0 <= k <= n). */
export function choose(n: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(k) || k < 0 || k > n) {
    return 0;
  }
  let result = 1;
  for (let i = 1; i <= Math.min(k, n - k); i++) {
    result = (result * (n - k + i)) / i;
  }
  return Math.round(result);
}

/** Splits (a model each) and backtest paths of combinatorial purged CV with N groups, k test groups:
 * C(N, k) splits; every group is tested in C(N-1, k-1) of them, so as many paths. */
export function cpcvShape(groups: number, testGroups: number): { splits: number; paths: number } {
  return { splits: choose(groups, testGroups), paths: choose(groups - 1, testGroups - 1) };
}

function wholeNumber(text: string | undefined): number | null {
  const trimmed = (text ?? "").trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : null;
}

function rangeProblem(name: string, text: string | undefined, low: number, high: number): string | null {
  const value = wholeNumber(text);
  return value === null || value < low || value > high
    ? `${name} must be a whole number in [${low}, ${high}], got ${text?.trim() || "nothing"}`
    : null;
}

/** The combinatorial purged CV fields' problems (none when switched off: the API skips them at 0 groups). */
export function cpcvProblems(form: TrainForm): string[] {
  if (!form.cpcv) {
    return [];
  }
  const problems = [
    rangeProblem("cpcv_groups", form.cpcvGroups, 2, LIMITS.cpcvGroups),
    rangeProblem("cpcv_test_groups", form.cpcvTestGroups, 1, LIMITS.cpcvTestGroups),
  ].filter((item): item is string => item !== null);
  if (problems.length > 0) {
    return problems;
  }
  const groups = wholeNumber(form.cpcvGroups)!;
  const testGroups = wholeNumber(form.cpcvTestGroups)!;
  if (testGroups >= groups) {
    return [`cpcv_test_groups (${testGroups}) must be below cpcv_groups (${groups})`];
  }
  const { splits } = cpcvShape(groups, testGroups);
  if (splits > LIMITS.cpcvSplits) {
    return [`cpcv_groups=${groups}, cpcv_test_groups=${testGroups} make ${splits} splits (a model each); at most ${LIMITS.cpcvSplits}`];
  }
  return [];
}

export function trainProblems(form: TrainForm): string[] {
  const problems: string[] = [];
  if (form.symbols.length === 0) {
    problems.push("Choose at least one symbol");
  } else if (form.symbols.length > LIMITS.symbols) {
    problems.push(`Choose at most ${LIMITS.symbols} symbols, got ${form.symbols.length}`);
  }
  const featureSet = form.featureSet.trim();
  if (featureSet.length > LIMITS.featureSetLength) {
    problems.push(`feature_set is at most ${LIMITS.featureSetLength} characters, got ${featureSet.length}`);
  }
  for (const [name, text, low, high] of [
    ["horizon", form.horizon, 1, 2520],
    ["max_trials", form.maxTrials, 1, LIMITS.maxTrials],
    ["cv_folds", form.cvFolds, 0, LIMITS.cvFolds],
  ] as const) {
    const problem = rangeProblem(name, text, low, high);
    if (problem) {
      problems.push(problem);
    }
  }
  if (wholeNumber(form.cvFolds) === 1) {
    problems.push("cv_folds must be 0 (no cross-validation) or at least 2");
  }
  problems.push(...cpcvProblems(form));
  if (form.start && form.end && form.start > form.end) {
    problems.push(`start ${form.start} is after end ${form.end}`);
  }
  return problems;
}

/** The POST /v1/models/train body of a valid form. */
export function buildTrainRequest(form: TrainForm): TrainRequest {
  const body: TrainRequest = {
    symbols: form.symbols,
    feature_set: form.featureSet.trim() || "alpha_v1",
    interval: "1d",
    label: { kind: form.label, horizon: Number(form.horizon), profit_take: 1, stop_loss: 1, vol_span: 50, threshold: 0, primary_fast: 20, primary_slow: 50 },
    max_trials: Number(form.maxTrials),
    cv_folds: Number(form.cvFolds),
    deploy: form.deploy,
    event_step: 1,
    validation_fraction: 0.2,
    embargo_pct: 0.01,
    // Off is cpcv_groups 0; the test groups are still validated by the API (1..6), so off sends its default 2.
    cpcv_groups: form.cpcv ? Number(form.cpcvGroups) : 0,
    cpcv_test_groups: form.cpcv ? Number(form.cpcvTestGroups) : 2,
  };
  if (form.start) body.start = form.start;
  if (form.end) body.end = form.end;
  return body;
}
