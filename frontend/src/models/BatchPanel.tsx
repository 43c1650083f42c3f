import { useState, type FormEvent } from "react";

import { useApi, useAuth } from "../auth/AuthContext";
import { RequireGroup, TRADING_GROUPS } from "../auth/RequireGroup";
import { Badge, ErrorBox, Loading, Panel, SymbolChips } from "../ui/components";
import { formatInteger, formatUtc } from "../ui/format";
import { batchProblems, batchView, buildBatchRequest, defaultBatchForm, isFinal, rememberBatch, storedBatches, type BatchForm } from "./batch";

const POLL_MS = 2_000;

function BatchForm({ modelId, lineage, onStarted }: { modelId: string; lineage: Record<string, unknown>; onStarted: (batchId: string) => void }) {
  const { $api } = useApi();
  const symbolsQuery = $api.useQuery("get", "/v1/marketdata/symbols", {}, { staleTime: 5 * 60_000 });
  const known = (symbolsQuery.data?.symbols ?? []).filter((item) => item.datasets.bars_1d).map((item) => item.symbol);
  const [form, setForm] = useState<BatchForm>(() => defaultBatchForm(lineage));
  const [touched, setTouched] = useState(false);
  const start = $api.useMutation("post", "/v1/models/{model_id}/batch-predictions");
  // The model's own symbols first (what it was trained on), then every other symbol with daily bars.
  const choices = [...new Set([...defaultBatchForm(lineage).symbols, ...known])];
  const problems = batchProblems(form);
  const set = (patch: Partial<BatchForm>) => setForm({ ...form, ...patch });

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (problems.length > 0) {
      return;
    }
    start.mutate(
      { params: { path: { model_id: modelId } }, body: buildBatchRequest(form) },
      { onSuccess: (job) => onStarted(job.id) },
    );
  }

  return (
    <form className="batch-form" onSubmit={submit} noValidate data-testid="batch-form">
      <SymbolChips choices={choices} selected={form.symbols} onChange={(symbols) => set({ symbols })} label="Symbols to score" />
      <div className="batch-fields">
        <label className="field">
          <span className="field-label">Score from</span>
          <input aria-label="Score from" type="date" value={form.start} onChange={(e) => set({ start: e.target.value })} />
        </label>
        <label className="field">
          <span className="field-label">Score to</span>
          <input aria-label="Score to" type="date" value={form.end} onChange={(e) => set({ end: e.target.value })} />
        </label>
        <button type="submit" className="btn btn-primary" disabled={start.isPending}>
          {start.isPending ? "Starting…" : "Start batch scoring"}
        </button>
      </div>
      <p className="muted small batch-hint">Empty dates score from the first or to the latest bar. The model's validation period is preselected.</p>
      {touched && problems.length > 0 && (
        <ul className="form-problems" data-testid="batch-problems">
          {problems.map((item) => (
            <li key={item}>{item}</li>
          ))}
        </ul>
      )}
      {start.isError && <ErrorBox title="Batch scoring was not started" error={start.error} />}
    </form>
  );
}

function BatchJob({ modelId, batchId }: { modelId: string; batchId: string }) {
  const { $api } = useApi();
  const query = $api.useQuery(
    "get",
    "/v1/models/{model_id}/batch-predictions/{batch_id}",
    { params: { path: { model_id: modelId, batch_id: batchId } } },
    { refetchInterval: (q) => (isFinal(q.state.data?.status) || q.state.error ? false : POLL_MS), staleTime: 0 },
  );
  if (query.isPending) {
    return <Loading what={`batch job ${batchId.slice(0, 8)}`} />;
  }
  if (query.isError) {
    return <ErrorBox title={`Batch job ${batchId.slice(0, 8)} unavailable`} error={query.error} onRetry={() => void query.refetch()} />;
  }
  const job = query.data;
  const view = batchView(job);
  const request = job.request as { symbols?: string[]; start?: string | null; end?: string | null };
  const done = view.status === "SUCCEEDED";
  return (
    <div className="run-card batch-job" data-testid="batch-job" data-status={view.status}>
      <p className="small">
        <Badge tone={view.tone}>
          <span data-testid="batch-status">{view.status}</span>
        </Badge>{" "}
        <code>{job.id.slice(0, 12)}</code> · {formatUtc(job.created_at)} · {(request.symbols ?? []).join(", ")} · {request.start || "first bar"} → {request.end || "latest bar"}
      </p>
      <div className="progress-row">
        <div className="progress" role="progressbar" aria-label="Batch job progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(100 * view.share)}>
          <div className={isFinal(view.status) ? (view.status === "FAILED" ? "progress-fill failed" : "progress-fill") : "progress-fill active"} style={{ width: `${100 * view.share}%` }} />
        </div>
        <span className="muted small nowrap" data-testid="batch-step">
          {view.status === "FAILED" ? `failed at ${view.step}` : view.step}
          {view.step === "scoring" && view.transformJob ? ` (${view.transformJob})` : ""}
        </span>
      </div>
      {view.error && <ErrorBox title="The batch job failed" error={new Error(view.error)} />}
      {view.symbols.length > 0 && (
        <div className="batch-result">
          <table className="table table-numeric batch-rows" data-testid="batch-rows">
            <thead>
              <tr>
                <th>Symbol</th>
                <th className="num">Rows</th>
              </tr>
            </thead>
            <tbody>
              {view.symbols.map((part) => (
                <tr key={part.symbol} data-symbol={part.symbol} data-rows={part.rows}>
                  <td>{part.symbol}</td>
                  <td className="num">{part.rows === 0 ? <span className="muted">0 (no rows in the window)</span> : formatInteger(part.rows)}</td>
                </tr>
              ))}
            </tbody>
            {view.symbols.length > 1 && (
              <tfoot>
                <tr>
                  <td>total</td>
                  <td className="num">{formatInteger(view.rows)}</td>
                </tr>
              </tfoot>
            )}
          </table>
          <dl className="facts small batch-facts">
            <dt>bars scored</dt>
            <dd className="mono">
              {view.from ?? "—"} → {view.to ?? "—"}
            </dd>
            <dt>feature set</dt>
            <dd className="mono">{view.featureSet ?? "—"}</dd>
            <dt>lake path</dt>
            <dd className="mono" data-testid="batch-output">
              {view.output ?? (done ? "—" : "written when scoring ends")}
            </dd>
            <dt>Glue table</dt>
            <dd className="mono" data-testid="batch-glue-table">
              {view.glueTable ?? (view.output ? "not registered (no lake database)" : "—")}
            </dd>
          </dl>
        </div>
      )}
    </div>
  );
}

/** Batch scoring of a model into the lake: start a job (traders and admins), follow the jobs this tab started. */
export function BatchPanel({ modelId, lineage }: { modelId: string; lineage: Record<string, unknown> }) {
  const owner = useAuth().session?.claims.sub ?? "";
  const [jobs, setJobs] = useState<string[]>(() => storedBatches(sessionStorage, owner, modelId));
  return (
    <Panel title="Batch scoring into the lake" className="batch-panel" actions={jobs.length > 0 && <Badge tone="info">{jobs.length}</Badge>}>
      <div data-testid="batch-panel">
        <RequireGroup
          groups={TRADING_GROUPS}
          fallback={
            <p className="muted" data-testid="batch-read-only">
              Read-only: viewers do not start batch scoring.
            </p>
          }
        >
          <BatchForm modelId={modelId} lineage={lineage} onStarted={(id) => setJobs(rememberBatch(sessionStorage, owner, modelId, id))} />
          {jobs.length === 0 ? (
            <p className="muted small" data-testid="batch-empty">
              No batch job for this model from this tab yet: the predictions go to Parquet in the lake, one partition per symbol, registered in Glue.
            </p>
          ) : (
            jobs.map((id) => <BatchJob key={id} modelId={modelId} batchId={id} />)
          )}
        </RequireGroup>
      </div>
    </Panel>
  );
}
