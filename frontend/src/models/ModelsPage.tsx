import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";

import type { components } from "../api/schema";
import { useApi, useAuth } from "../auth/AuthContext";
import { RequireGroup, TRADING_GROUPS } from "../auth/RequireGroup";
import { Badge, ErrorBox, Loading, Panel, SymbolChips } from "../ui/components";
import { DataTable } from "../ui/DataTable";
import { formatUtc } from "../ui/format";
import { HBars } from "../ui/HBars";
import { BatchPanel } from "./BatchPanel";
import { readCpcv } from "./cpcv";
import { CpcvSection } from "./CpcvView";
import "./models.css";
import { buildTrainRequest, cpcvProblems, cpcvShape, defaultTrainForm, LIMITS, trainProblems, type LabelKind, type TrainForm } from "./train";


type ModelInfo = components["schemas"]["ModelInfo"];

const RUNS_KEY = "trade2026.trainingRuns";
const STEPS = ["queued", "training", "evaluated", "registered", "deployed", "done"];
const num = (value: unknown, digits = 3) => (typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "—");
const pct = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? `${(100 * value).toFixed(2)}%` : "—");

/** The training runs this user started in this tab (the API shows a run to its owner only). */
function storedRuns(owner: string): string[] {
  try {
    const value = JSON.parse(sessionStorage.getItem(`${RUNS_KEY}.${owner}`) ?? "[]") as unknown;
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
  } catch {
    return [];
  }
}

function TrainPanel({ onStarted }: { onStarted: (runId: string) => void }) {
  const { $api } = useApi();
  const symbolsQuery = $api.useQuery("get", "/v1/marketdata/symbols", {}, { staleTime: 5 * 60_000 });
  const symbols = (symbolsQuery.data?.symbols ?? []).filter((item) => item.datasets.bars_1d).map((item) => item.symbol);
  const [form, setForm] = useState<Required<TrainForm>>(defaultTrainForm);
  const [touched, setTouched] = useState(false);
  const train = $api.useMutation("post", "/v1/models/train");
  useEffect(() => {
    if (symbols.length > 0 && form.symbols.length === 0) {
      setForm((current) => ({ ...current, symbols: [symbols.includes("SP500") ? "SP500" : symbols[0]!] }));
    }
  }, [symbols.length]);
  const problems = trainProblems(form);
  const set = (patch: Partial<TrainForm>) => setForm({ ...form, ...patch });
  const shape = cpcvProblems(form).length === 0 ? cpcvShape(Number(form.cpcvGroups), Number(form.cpcvTestGroups)) : null;

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (problems.length > 0) {
      return;
    }
    const body = buildTrainRequest(form);
    train.mutate({ body }, { onSuccess: (run) => onStarted(String((run as { id: unknown }).id)) });
  }

  return (
    <Panel title="Train a model">
      <RequireGroup groups={TRADING_GROUPS} fallback={<p className="muted" data-testid="read-only-note">Read-only: viewers see the registry but do not train.</p>}>
        <form className="backtest-form" onSubmit={submit} noValidate data-testid="train-form">
          <h3 className="subhead">Symbols</h3>
          <SymbolChips choices={symbols} selected={form.symbols} onChange={(symbols) => set({ symbols })} />
          <div className="field-grid data-grid">
            <label className="field">
              <span className="field-label">Start</span>
              <input aria-label="Start" type="date" value={form.start} onChange={(e) => set({ start: e.target.value })} />
            </label>
            <label className="field">
              <span className="field-label">End</span>
              <input aria-label="End" type="date" value={form.end} onChange={(e) => set({ end: e.target.value })} />
            </label>
            <label className="field">
              <span className="field-label">Feature set</span>
              <input aria-label="Feature set" value={form.featureSet} onChange={(e) => set({ featureSet: e.target.value })} />
            </label>
            <label className="field">
              <span className="field-label">Label</span>
              <select aria-label="Label" value={form.label} onChange={(e) => set({ label: e.target.value as LabelKind })}>
                <option value="triple_barrier">triple barrier</option>
                <option value="fixed_horizon">fixed horizon</option>
                <option value="meta">meta-labeling</option>
              </select>
            </label>
            <label className="field">
              <span className="field-label">Horizon (bars)</span>
              <input aria-label="Horizon" inputMode="numeric" value={form.horizon} onChange={(e) => set({ horizon: e.target.value })} />
            </label>
            <label className="field">
              <span className="field-label">Trials (random search)</span>
              <input aria-label="Trials" inputMode="numeric" value={form.maxTrials} onChange={(e) => set({ maxTrials: e.target.value })} />
            </label>
            <label className="field">
              <span className="field-label">Purged CV folds</span>
              <input aria-label="CV folds" inputMode="numeric" value={form.cvFolds} onChange={(e) => set({ cvFolds: e.target.value })} />
            </label>
            <label className="field overlay-toggle">
              <span className="field-label">Deploy champion</span>
              <input type="checkbox" aria-label="Deploy" checked={form.deploy} onChange={(e) => set({ deploy: e.target.checked })} />
            </label>
            <label className="cpcv-toggle">
              <input
                type="checkbox"
                aria-label="Combinatorial purged CV"
                checked={form.cpcv}
                onChange={(e) => set({ cpcv: e.target.checked })}
              />
              Combinatorial purged CV
            </label>
            {form.cpcv && (
              <>
                <label className="field">
                  <span className="field-label">CPCV groups (N, 2–{LIMITS.cpcvGroups})</span>
                  <input aria-label="CPCV groups" inputMode="numeric" value={form.cpcvGroups} onChange={(e) => set({ cpcvGroups: e.target.value })} />
                </label>
                <label className="field">
                  <span className="field-label">Test groups (k &lt; N)</span>
                  <input aria-label="CPCV test groups" inputMode="numeric" value={form.cpcvTestGroups} onChange={(e) => set({ cpcvTestGroups: e.target.value })} />
                </label>
                <p className="muted small cpcv-shape" data-testid="cpcv-shape" aria-live="polite">
                  {shape
                    ? `${shape.splits} splits (a model each, at most ${LIMITS.cpcvSplits}) → ${shape.paths} backtest paths, an AUC each`
                    : cpcvProblems(form)[0]}
                </p>
              </>
            )}
          </div>
          {touched && problems.length > 0 && (
            <ul className="form-problems">
              {problems.map((item) => (
                <li key={item}>{item}</li>
              ))}
            </ul>
          )}
          {train.isError && <ErrorBox title="Training was not started" error={train.error} />}
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={train.isPending}>
              {train.isPending ? "Starting…" : "Start training"}
            </button>
          </div>
        </form>
      </RequireGroup>
    </Panel>
  );
}

function RunCard({ runId, onModel }: { runId: string; onModel: (id: string) => void }) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const run = $api.useQuery(
    "get",
    "/v1/models/runs/{run_id}",
    { params: { path: { run_id: runId } } },
    { refetchInterval: (query) => (["SUCCEEDED", "FAILED"].includes(String(query.state.data?.status)) ? false : 2_000), staleTime: 0 },
  );
  const status = run.data?.status;
  useEffect(() => {
    if (status === "SUCCEEDED" || status === "FAILED") {
      void queryClient.invalidateQueries({ queryKey: ["get", "/v1/models"] });
    }
  }, [status, queryClient]);
  if (run.isPending) {
    return <Loading what={`run ${runId.slice(0, 8)}`} />;
  }
  if (run.isError) {
    return <ErrorBox title={`Run ${runId.slice(0, 8)} unavailable`} error={run.error} />;
  }
  const data = run.data;
  const at = Math.max(0, STEPS.indexOf(data.step ?? "queued"));
  const done = data.status === "SUCCEEDED";
  const progress = (data.progress ?? {}) as { dataset?: { rows?: number; rows_train?: number; rows_validation?: number; purged?: number; cpcv_splits?: number } };
  return (
    <div className="run-card" data-testid="training-run" data-status={data.status}>
      <p className="small">
        <Badge tone={done ? "good" : data.status === "FAILED" ? "bad" : "info"}>
          <span data-testid="training-status">{data.status}</span>
        </Badge>{" "}
        <code>{data.id.slice(0, 12)}</code> · {formatUtc(data.created_at)} · {(data.request.symbols as string[] | undefined)?.join(", ")}
      </p>
      <div className="progress-row">
        <div className="progress">
          <div className={done ? "progress-fill" : "progress-fill active"} style={{ width: `${(100 * (done ? STEPS.length : at + 1)) / STEPS.length}%` }} />
        </div>
        <span className="muted small" data-testid="training-step">
          {data.step ?? "queued"}
        </span>
      </div>
      {progress.dataset && (
        <p className="muted small">
          {progress.dataset.rows} samples ({progress.dataset.rows_train} train, {progress.dataset.rows_validation} validation, {progress.dataset.purged} purged)
          {progress.dataset.cpcv_splits ? ` · ${progress.dataset.cpcv_splits} CPCV splits` : ""}
        </p>
      )}
      {data.error && <ErrorBox title="The training failed" error={new Error(data.error)} />}
      {data.model_id && (
        <button type="button" className="btn btn-small" onClick={() => onModel(data.model_id!)}>
          Open model {data.model_id.slice(0, 8)}
        </button>
      )}
    </div>
  );
}

function ModelDetail({ modelId }: { modelId: string }) {
  const { $api } = useApi();
  const query = $api.useQuery("get", "/v1/models/{model_id}", { params: { path: { model_id: modelId } } });
  if (query.isPending) {
    return <Loading what="the model" />;
  }
  if (query.isError) {
    return <ErrorBox title="Model unavailable" error={query.error} />;
  }
  const model = query.data;
  const metrics = model.metrics as {
    validation?: Record<string, unknown>;
    train?: Record<string, unknown>;
    feature_importance?: Record<string, number>;
    signal_backtest?: { from?: string; to?: string; model?: Record<string, unknown>; equal_weight_hold?: Record<string, unknown> };
    trials?: Record<string, unknown>[];
  };
  const importance = Object.entries(metrics.feature_importance ?? {})
    .map(([label, value]) => ({ label, value }))
    .sort((a, b) => b.value - a.value);
  const keys = ["auc", "log_loss", "accuracy", "precision", "recall", "f1"];
  const lineage = model.lineage as Record<string, unknown>;
  const backtest = metrics.signal_backtest;
  const cpcv = readCpcv(model.metrics);
  return (
    <>
      <Panel
        title={
          <>
            {model.family} v{model.version}
          </>
        }
        actions={<Badge tone={model.stage === "champion" ? "good" : "neutral"}>{model.stage}</Badge>}
        className="model-detail"
      >
        <div data-testid="model-detail">
          <table className="table table-numeric" data-testid="model-metrics">
            <thead>
              <tr>
                <th>Set</th>
                {keys.map((key) => (
                  <th key={key} className="num">
                    {key.replace("_", " ")}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {(["train", "validation"] as const).map((set) => (
                <tr key={set}>
                  <td>{set}</td>
                  {keys.map((key) => (
                    <td key={key} className="num">
                      {num(metrics[set]?.[key] ?? (key === "log_loss" ? metrics[set]?.logloss : undefined))}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <div className="model-columns">
            <div>
              <h3 className="subhead">Feature importance (gain)</h3>
              <HBars rows={importance} format={(value) => value.toFixed(2)} testId="feature-importance" />
            </div>
            <div>
              <h3 className="subhead">
                Signal backtest {backtest?.from} → {backtest?.to} (validation period)
              </h3>
              {backtest && (
                <DataTable
                  rows={["total_return", "annualized_return", "annualized_volatility", "sharpe", "max_drawdown"].map((key) => ({
                    metric: key.replace(/_/g, " "),
                    model: key === "sharpe" ? num(backtest.model?.[key], 2) : pct(backtest.model?.[key]),
                    hold: key === "sharpe" ? num(backtest.equal_weight_hold?.[key], 2) : pct(backtest.equal_weight_hold?.[key]),
                  }))}
                  columns={[
                    { key: "metric", label: "Metric" },
                    { key: "model", label: "Model signals", numeric: true },
                    { key: "hold", label: "Equal-weight hold", numeric: true },
                  ]}
                />
              )}
              <h3 className="subhead">Combinatorial purged CV: AUC per backtest path</h3>
              <CpcvSection summary={cpcv} />
              <h3 className="subhead">Lineage</h3>
              <dl className="facts small">
                {["feature_set", "data_hash", "code_hash", "training_job", "run_id"].map((key) => (
                  <span key={key} className="contents">
                    <dt>{key.replace(/_/g, " ")}</dt>
                    <dd className="mono">{String(lineage[key] ?? "—")}</dd>
                  </span>
                ))}
                <dt>endpoint</dt>
                <dd className="mono">{model.endpoint ?? "—"}</dd>
              </dl>
            </div>
          </div>
        </div>
      </Panel>
      <BatchPanel modelId={model.id} lineage={lineage} />
    </>
  );
}

function Registry({ selected, onSelect }: { selected: string | null; onSelect: (id: string) => void }) {
  const { $api } = useApi();
  const query = $api.useQuery("get", "/v1/models", {}, { staleTime: 0 });
  const models = ((query.data as { models?: ModelInfo[] } | undefined)?.models ?? []) as ModelInfo[];
  return (
    <Panel title="Model registry" actions={<Badge tone="info">{models.length}</Badge>}>
      {query.isPending && <Loading what="models" />}
      {query.isError && <ErrorBox title="Registry unavailable" error={query.error} />}
      {query.data && models.length === 0 && (
        <p className="muted" data-testid="registry-empty">
          No model registered yet: train one.
        </p>
      )}
      {models.length > 0 && (
        <table className="table table-numeric" data-testid="registry">
          <thead>
            <tr>
              <th>Family</th>
              <th className="num">Version</th>
              <th>Stage</th>
              <th className="num">Val. AUC</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {models.map((model) => (
              <tr
                key={model.id}
                data-testid="registry-row"
                data-run-id={model.run_id ?? ""}
                className={model.id === selected ? "row-selected clickable" : "clickable"}
                tabIndex={0}
                onClick={() => onSelect(model.id)}
                onKeyDown={(event) => event.key === "Enter" && onSelect(model.id)}
              >
                <td className="mono small">{model.family}</td>
                <td className="num">{model.version}</td>
                <td>
                  <Badge tone={model.stage === "champion" ? "good" : "neutral"}>{model.stage}</Badge>
                </td>
                <td className="num">{num((model.metrics as { validation?: { auc?: number } }).validation?.auc)}</td>
                <td className="nowrap">{formatUtc(model.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

export default function ModelsPage() {
  const owner = useAuth().session?.claims.sub ?? "";
  const [runs, setRuns] = useState<string[]>(() => storedRuns(owner));
  const [search, setSearch] = useSearchParams();
  const modelId = search.get("model");
  const start = (runId: string) => {
    const next = [runId, ...runs.filter((item) => item !== runId)].slice(0, 10);
    sessionStorage.setItem(`${RUNS_KEY}.${owner}`, JSON.stringify(next));
    setRuns(next);
  };
  return (
    <div className="models">
      <div className="models-side">
        <TrainPanel onStarted={start} />
        <Panel title="Training runs (this tab)">
          {runs.length === 0 && <p className="muted">Runs you start appear here with their progress.</p>}
          {runs.map((runId) => (
            <RunCard key={runId} runId={runId} onModel={(id) => setSearch({ model: id })} />
          ))}
        </Panel>
      </div>
      <div className="models-main">
        <Registry selected={modelId} onSelect={(id) => setSearch({ model: id })} />
        {modelId && <ModelDetail key={modelId} modelId={modelId} />}
      </div>
    </div>
  );
}
