import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";

import { ApiError } from "../api/errors";
import type { components } from "../api/schema";
import { useApi } from "../auth/AuthContext";
import { RequireGroup, TRADING_GROUPS } from "../auth/RequireGroup";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { formatUtc } from "../ui/format";

type StrategyView = components["schemas"]["StrategyView"];
type TargetState = components["schemas"]["TransitionRequest"]["to"];

interface Version {
  version: number;
  state: string;
  code: string;
  params: Record<string, unknown>;
  author: string;
  created_at: string;
  notes: string;
  immutable: boolean;
  backtests: string[];
  sweeps: string[];
  models: string[];
  evidence: Record<string, unknown> | null;
  history: { from: string | null; to: string; at: string; by: string; reason?: string }[];
  paper_decisions: number;
  next_states: string[];
}

interface Codes {
  codes: { code: string; kind: string; description: string; defaults: Record<string, unknown> }[];
  thresholds: Record<string, number>;
}

const STATE_TONES: Record<string, "good" | "bad" | "warn" | "info" | "neutral"> = {
  draft: "neutral", backtested: "info", validated: "info", paper: "warn", live: "good", retired: "bad",
};

/** A JSON object typed in a textarea: the value, or the reason it is not one. */
export function parseParams(text: string): { value: Record<string, unknown> | null; problem: string | null } {
  if (!text.trim()) {
    return { value: {}, problem: null };
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return { value: null, problem: "params must be a JSON object, e.g. {\"fast\": 10}" };
    }
    return { value: value as Record<string, unknown>, problem: null };
  } catch (error) {
    return { value: null, problem: `params is not JSON: ${(error as Error).message}` };
  }
}

function refresh(queryClient: ReturnType<typeof useQueryClient>) {
  void queryClient.invalidateQueries({ queryKey: ["get", "/v1/strategies"] });
  void queryClient.invalidateQueries({ queryKey: ["get", "/v1/strategies/{strategy_id}"] });
}

function CreateStrategy({ onCreated }: { onCreated: (id: string) => void }) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const codesQuery = $api.useQuery("get", "/v1/strategies/codes", {}, { staleTime: 10 * 60_000 });
  const codes = codesQuery.data as unknown as Codes | undefined;
  const [name, setName] = useState("");
  const [code, setCode] = useState("");
  const [description, setDescription] = useState("");
  const [params, setParams] = useState("");
  const [problems, setProblems] = useState<string[]>([]);
  const create = $api.useMutation("post", "/v1/strategies");
  const chosen = codes?.codes.find((item) => item.code === code) ?? codes?.codes.find((item) => item.code === "rule") ?? codes?.codes[0];
  function submit(event: FormEvent) {
    event.preventDefault();
    const parsed = parseParams(params);
    const found = [...(name.trim() ? [] : ["Give the strategy a name"]), ...(parsed.problem ? [parsed.problem] : [])];
    setProblems(found);
    if (found.length || !chosen) return;
    create.mutate(
      { body: { name: name.trim(), code: chosen.code, description, params: parsed.value ?? {} } },
      { onSuccess: (strategy) => { refresh(queryClient); onCreated(strategy.id); setName(""); } },
    );
  }
  return (
    <Panel title="Register a strategy">
      <form className="backtest-form" onSubmit={submit} noValidate data-testid="strategy-form">
        <label className="field field-wide">
          <span className="field-label">Name</span>
          <input aria-label="Strategy name" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="field field-wide">
          <span className="field-label">Code</span>
          <select aria-label="Code" value={chosen?.code ?? ""} onChange={(e) => { setCode(e.target.value); setParams(""); }}>
            {codes?.codes.map((item) => (
              <option key={item.code} value={item.code}>
                {item.code} ({item.kind})
              </option>
            ))}
          </select>
        </label>
        {chosen && <p className="muted small">{chosen.description}</p>}
        <label className="field field-wide">
          <span className="field-label">Parameters (JSON; empty = the defaults)</span>
          <textarea aria-label="Parameters" rows={4} placeholder={JSON.stringify(chosen?.defaults ?? {})} value={params} onChange={(e) => setParams(e.target.value)} />
        </label>
        <label className="field field-wide">
          <span className="field-label">Description</span>
          <input aria-label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        {problems.length > 0 && (
          <ul className="form-problems">
            {problems.map((item) => (
              <li key={item}>{item}</li>
            ))}
          </ul>
        )}
        {create.isError && <ErrorBox title="The strategy was refused" error={create.error} />}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={create.isPending}>
            {create.isPending ? "Registering…" : "Register (version 1, draft)"}
          </button>
        </div>
        {codes && (
          <p className="muted small">
            Gates: PBO ≤ {codes.thresholds.max_pbo}, deflated Sharpe ≥ {codes.thresholds.min_dsr}, at least {codes.thresholds.min_paper_decisions} paper
            decisions before live.
          </p>
        )}
      </form>
    </Panel>
  );
}

function gateDetails(error: unknown): [string, unknown][] {
  if (error instanceof ApiError && error.details && typeof error.details === "object" && !Array.isArray(error.details)) {
    return Object.entries(error.details as Record<string, unknown>);
  }
  return [];
}

function VersionCard({ strategyId, version }: { strategyId: string; version: Version }) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const [to, setTo] = useState(version.next_states[0] ?? "");
  const [reason, setReason] = useState("");
  const [links, setLinks] = useState("");
  const transition = $api.useMutation("post", "/v1/strategies/{strategy_id}/versions/{version}/transition");
  const link = $api.useMutation("post", "/v1/strategies/{strategy_id}/versions/{version}/links");
  const path = { strategy_id: strategyId, version: version.version };
  const details = gateDetails(transition.error);
  return (
    <div className="version-card" data-testid="strategy-version" data-state={version.state}>
      <p>
        <strong>v{version.version}</strong> <Badge tone={STATE_TONES[version.state] ?? "neutral"}>{version.state}</Badge>{" "}
        <span className="muted small">
          by {version.author} · {formatUtc(version.created_at)} · {version.paper_decisions} paper decisions
        </span>
      </p>
      <p className="mono small">{JSON.stringify(version.params)}</p>
      <p className="small muted">
        links: {version.backtests.length} backtests, {version.sweeps.length} sweeps, {version.models.length} models
        {version.notes && <> · {version.notes}</>}
      </p>
      <p className="small">
        {version.history.map((step) => (
          <span key={`${step.at}${step.to}`} className="history-step" title={step.reason}>
            {step.from ?? "∅"} → {step.to} <span className="muted">({formatUtc(step.at)}, {step.by})</span>
          </span>
        ))}
      </p>
      <RequireGroup groups={TRADING_GROUPS}>
        {version.next_states.length > 0 && (
          <form
            className="inline-form wrap-form"
            onSubmit={(event) => {
              event.preventDefault();
              transition.mutate({ params: { path }, body: { to: to as TargetState, reason: reason || "manual" } }, { onSettled: () => refresh(queryClient) });
            }}
          >
            <select aria-label={`Move v${version.version} to`} value={to} onChange={(e) => setTo(e.target.value)}>
              {version.next_states.map((state) => (
                <option key={state}>{state}</option>
              ))}
            </select>
            <input aria-label="Reason" placeholder="reason" value={reason} onChange={(e) => setReason(e.target.value)} />
            <button type="submit" className="btn btn-small" disabled={transition.isPending}>
              Move
            </button>
          </form>
        )}
        {transition.isError && (
          <div data-testid="gate-refusal">
            <ErrorBox title="The gate refused" error={transition.error} />
            {details.length > 0 && (
              <dl className="facts small">
                {details.map(([key, value]) => (
                  <span key={key} className="contents">
                    <dt>{key}</dt>
                    <dd className="mono">{JSON.stringify(value)}</dd>
                  </span>
                ))}
              </dl>
            )}
          </div>
        )}
        {!version.immutable && (
          <form
            className="inline-form wrap-form"
            onSubmit={(event) => {
              event.preventDefault();
              const ids = links.split(",").map((item) => item.trim()).filter(Boolean);
              if (ids.length) {
                link.mutate({ params: { path }, body: { backtests: ids, sweeps: [], models: [] } }, { onSettled: () => refresh(queryClient) });
              }
            }}
          >
            <input aria-label="Backtest ids" placeholder="backtest ids, comma separated" value={links} onChange={(e) => setLinks(e.target.value)} />
            <button type="submit" className="btn btn-small" disabled={link.isPending}>
              Link backtests
            </button>
          </form>
        )}
        {link.isError && <ErrorBox title="The links were refused" error={link.error} />}
      </RequireGroup>
    </div>
  );
}

function StrategyDetail({ id }: { id: string }) {
  const { $api } = useApi();
  const query = $api.useQuery("get", "/v1/strategies/{strategy_id}", { params: { path: { strategy_id: id } } }, { staleTime: 0 });
  if (query.isPending) return <Loading what="the strategy" />;
  if (query.isError) return <ErrorBox title="Strategy unavailable" error={query.error} />;
  const strategy = query.data;
  const versions = ((strategy.versions ?? []) as unknown as Version[]).slice().sort((a, b) => b.version - a.version);
  return (
    <Panel title={`${strategy.name} · ${strategy.code} (${strategy.kind})`} actions={<code className="muted small">{strategy.id}</code>}>
      <div data-testid="strategy-detail">
        {strategy.description && <p className="muted">{strategy.description}</p>}
        {versions.map((version) => (
          <VersionCard key={`${version.version}-${version.state}-${version.history.length}`} strategyId={strategy.id} version={version} />
        ))}
        <p className="muted small">Deployment slots (hot-swap, rollback, shadow) appear here once their API is published.</p>
      </div>
    </Panel>
  );
}

export default function StrategiesPage() {
  const { $api } = useApi();
  const [search, setSearch] = useSearchParams();
  const selected = search.get("strategy");
  const library = $api.useQuery("get", "/v1/strategies", {}, { staleTime: 0 });
  const strategies = (library.data ?? []) as StrategyView[];
  return (
    <div className="analytics">
      <div className="models-side">
        <RequireGroup groups={TRADING_GROUPS} fallback={<Panel title="Strategies"><p className="muted" data-testid="read-only-note">Read-only: viewers browse the library.</p></Panel>}>
          <CreateStrategy onCreated={(id) => setSearch({ strategy: id })} />
        </RequireGroup>
      </div>
      <div className="analytics-main">
        <Panel title="Library" actions={<Badge tone="info">{strategies.length}</Badge>}>
          {library.isPending && <Loading what="the library" />}
          {library.isError && <ErrorBox title="Library unavailable" error={library.error} />}
          {library.data && strategies.length === 0 && <p className="muted" data-testid="library-empty">No strategies yet.</p>}
          {strategies.length > 0 && (
            <table className="table" data-testid="strategy-library">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Code</th>
                  <th>Latest</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {strategies.map((strategy) => (
                  <tr
                    key={strategy.id}
                    className={strategy.id === selected ? "row-selected clickable" : "clickable"}
                    tabIndex={0}
                    onClick={() => setSearch({ strategy: strategy.id })}
                    onKeyDown={(event) => event.key === "Enter" && setSearch({ strategy: strategy.id })}
                  >
                    <td><strong>{strategy.name}</strong></td>
                    <td className="mono">{strategy.code}</td>
                    <td>v{strategy.latest_version}</td>
                    <td className="nowrap">{formatUtc(strategy.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
        {selected && <StrategyDetail key={selected} id={selected} />}
      </div>
    </div>
  );
}
