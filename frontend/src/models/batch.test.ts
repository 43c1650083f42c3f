import { describe, expect, it } from "vitest";

import { batchProblems, batchView, buildBatchRequest, defaultBatchForm, isFinal, rememberBatch, storedBatches, type BatchInfo } from "./batch";

function memoryStorage(initial: Record<string, string> = {}) {
  const items = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
  };
}

const ID = (n: number) => n.toString(16).padStart(32, "0");

describe("batch scoring form -> POST /v1/models/{id}/batch-predictions", () => {
  it("opens on the model's symbols from its validation period and sends only what is set", () => {
    // Given a model's lineage
    const lineage = { symbols: ["SP500", "NASDAQ"], data_range: { first_sample: "2014-01-02", validation_from: "2017-03-01" } };
    // When the form opens
    const form = defaultBatchForm(lineage);
    // Then it scores the out-of-sample period of the trained symbols
    expect(form).toEqual({ symbols: ["SP500", "NASDAQ"], start: "2017-03-01", end: "" });
    expect(buildBatchRequest(form)).toEqual({ symbols: ["SP500", "NASDAQ"], start: "2017-03-01" });
    expect(buildBatchRequest({ symbols: ["A", "A", "B"], start: "", end: "2018-01-31" })).toEqual({ symbols: ["A", "B"], end: "2018-01-31" });
    // And a lineage without them opens empty
    expect(defaultBatchForm({})).toEqual({ symbols: [], start: "", end: "" });
    expect(defaultBatchForm({ symbols: "SP500", data_range: { validation_from: "soon" } })).toEqual({ symbols: [], start: "", end: "" });
  });

  it("refuses what the API refuses, with the values", () => {
    expect(batchProblems({ symbols: ["SP500"], start: "2018-01-01", end: "2018-06-30" })).toEqual([]);
    expect(batchProblems({ symbols: ["SP500"], start: "", end: "" })).toEqual([]);
    expect(batchProblems({ symbols: [], start: "2018-07-01", end: "2018-06-30" })).toEqual([
      "Choose at least one symbol to score",
      "empty window: start 2018-07-01 is after end 2018-06-30",
    ]);
    expect(batchProblems({ symbols: ["SP500"], start: "2018-02-30", end: "18-1-1" })).toEqual([
      "start must be a date YYYY-MM-DD, got 2018-02-30",
      "end must be a date YYYY-MM-DD, got 18-1-1",
    ]);
    const many = Array.from({ length: 101 }, (_, i) => `S${i}`);
    expect(batchProblems({ symbols: many, start: "", end: "" })).toEqual(["Choose at most 100 symbols, got 101"]);
  });
});

describe("a batch job as the page shows it", () => {
  const base: BatchInfo = { id: ID(1), model_id: ID(2), status: "PENDING", step: "queued", created_at: "2026-01-01T00:00:00Z", request: {}, progress: {} };

  it("moves through the steps and ends full on success", () => {
    // Given a job as it moves on
    const queued = batchView(base);
    const scoring = batchView({
      ...base,
      status: "RUNNING",
      step: "scoring",
      progress: { symbols: [{ symbol: "SP500", rows: 124, part: 1 }, { symbol: "NASDAQ", rows: 0 }], rows: 124, from: "2018-01-02", to: "2018-06-29", transform_job: "ml-batch-abc" },
    });
    const done = batchView({
      ...base,
      status: "SUCCEEDED",
      step: "done",
      progress: { symbols: [{ symbol: "SP500", rows: 124 }], rows: 124, output: "s3://lake/predictions/model_id=x/", glue_table: "trade2026_lake.predictions" },
    });
    // Then the share grows, the counts and the output location come through
    expect(queued).toMatchObject({ tone: "info", share: 1 / 5, rows: null, output: null, symbols: [] });
    expect(scoring).toMatchObject({ tone: "info", share: 3 / 5, rows: 124, from: "2018-01-02", to: "2018-06-29", transformJob: "ml-batch-abc" });
    expect(scoring.symbols).toEqual([{ symbol: "SP500", rows: 124 }, { symbol: "NASDAQ", rows: 0 }]);
    expect(done).toMatchObject({ tone: "good", share: 1, output: "s3://lake/predictions/model_id=x/", glueTable: "trade2026_lake.predictions" });
    expect([queued, scoring, done].map((view) => isFinal(view.status))).toEqual([false, false, true]);
  });

  it("keeps a failure's cause and where it stopped", () => {
    const failed = batchView({ ...base, status: "FAILED", step: "preparing input", error: "no feature rows to score between 1970-01-01 and 1970-12-31 for SP500" });
    expect(failed).toMatchObject({ tone: "bad", step: "preparing input", share: 2 / 5, error: expect.stringContaining("no feature rows") });
    expect(isFinal("FAILED")).toBe(true);
    expect(batchView({ ...base, step: null, progress: { symbols: "?", glue_table: "" } })).toMatchObject({ step: "queued", symbols: [], glueTable: null });
  });
});

describe("the jobs this tab started", () => {
  it("keeps the newest five per model and user, and ignores anything malformed", () => {
    // Given a storage with another model's job and junk
    const storage = memoryStorage({ "trade2026.batchJobs.u1": JSON.stringify({ other: [ID(99), 7, "nope"] }) });
    // When six jobs are started for a model
    for (let n = 1; n <= 6; n++) {
      rememberBatch(storage, "u1", "m", ID(n));
    }
    // Then the newest five are listed newest first, and the other model keeps its valid id
    expect(storedBatches(storage, "u1", "m")).toEqual([6, 5, 4, 3, 2].map(ID));
    expect(storedBatches(storage, "u1", "other")).toEqual([ID(99)]);
    expect(rememberBatch(storage, "u1", "m", ID(4))).toEqual([4, 6, 5, 3, 2].map(ID));
    // And another user signed in to the same tab sees none of them (the API would answer 404)
    expect(storedBatches(storage, "u2", "m")).toEqual([]);
    expect(storedBatches(memoryStorage({ "trade2026.batchJobs.u1": "{bad json" }), "u1", "m")).toEqual([]);
    expect(storedBatches(memoryStorage({ "trade2026.batchJobs.u1": "[1,2]" }), "u1", "m")).toEqual([]);
  });
});
