import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";

import { ApiError } from "../api/errors";
import type { components } from "../api/schema";
import { useApi } from "../auth/AuthContext";
import { RequireGroup, TRADING_GROUPS } from "../auth/RequireGroup";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { formatUtc } from "../ui/format";
import { SlotsView } from "./SlotsView";

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

function formatEvidence(value: unknown): string {
  return typeof value === "number" ? value.toFixed(3) : "—";
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
            Gates: PBO below {codes.thresholds.max_pbo}, deflated Sharpe above {codes.thresholds.min_dsr}, at least {codes.thresholds.min_paper_decisions} paper
            decisions before live.
          </p>
        )}
      </form>
    </Panel>
  );
}

type LinkKind = "backtests" | "sweeps" | "models";

/** The POST .../links body for ids typed comma separated (null when none). */
export function linkBody(kind: LinkKind, text: string): { backtests: string[]; sweeps: string[]; models: string[] } | null {
  const ids = [...new Set(text.split(/[\s,]+/).map((item) => item.trim()).filter(Boolean))];
  if (!ids.length) return null;
  return { backtests: [], sweeps: [], models: [], [kind]: ids };
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
  const [linkKind, setLinkKind] = useState<LinkKind>("backtests");
  const transition = $api.useMutation("post", "/v1/strategies/{strategy_id}/versions/{version}/transition");
  const link = $api.useMutation("post", "/v1/strategies/{strategy_id}/versions/{version}/links");
  const path = { strategy_id: strategyId, version: version.version };
  const details = gateDetails(transition.error);
  return (
    <div className="version-card" data-testid="strategy-version" data-state={version.state} data-version={version.version}>
      <p>
        <strong>v{version.version}</strong> <Badge tone={STATE_TONES[version.state] ?? "neutral"}>{version.state}</Badge>{" "}
        <span className="muted small">
          by {version.author} · {formatUtc(version.created_at)} · {version.paper_decisions} paper decisions
        </span>
      </p>
      <p className="mono small">{JSON.stringify(version.params)}</p>
      <p className="small muted" data-testid="version-links">
        links: {version.backtests.length} backtests, {version.sweeps.length} sweeps, {version.models.length} models
        {version.notes && <> · {version.notes}</>}
      </p>
      {version.evidence && (
        <p className="small muted mono" data-testid="version-evidence" title="The numbers the last move's gate read">
          evidence at the last move: {String(version.evidence.backtests ?? 0)} finished run(s) · PBO {formatEvidence(version.evidence.pbo)} · deflated
          Sharpe {formatEvidence(version.evidence.deflated_sharpe)}
        </p>
      )}
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
            <input aria-label={`Reason for v${version.version}`} placeholder="reason" value={reason} onChange={(e) => setReason(e.target.value)} />
            <button type="submit" className="btn btn-small" disabled={transition.isPending} aria-label={`Move v${version.version}`}>
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
                    <dd className="mono">{typeof value === "number" ? value.toLocaleString("en-US", { maximumFractionDigits: 4 }) : typeof value === "string" ? value : JSON.stringify(value)}</dd>
                  </span>
                ))}
              </dl>
            )}
          </div>
        )}
        {version.state !== "retired" && (
          <form
            className="inline-form wrap-form link-form"
            onSubmit={(event) => {
              event.preventDefault();
              const body = linkBody(linkKind, links);
              if (body) {
                link.mutate({ params: { path }, body }, { onSuccess: () => setLinks(""), onSettled: () => refresh(queryClient) });
              }
            }}
          >
            <select aria-label={`Link to v${version.version}`} value={linkKind} onChange={(e) => setLinkKind(e.target.value as LinkKind)}>
              <option value="backtests">backtests</option>
              <option value="sweeps">sweeps</option>
              <option value="models">models</option>
            </select>
            <input aria-label={`Run ids for v${version.version}`} placeholder={`${linkKind.slice(0, -1)} ids, comma separated`} value={links} onChange={(e) => setLinks(e.target.value)} />
            <button type="submit" className="btn btn-small" disabled={link.isPending}>
              Link
            </button>
          </form>
        )}
        {link.isError && (
          <div data-testid="link-error">
            <ErrorBox title="The links were refused" error={link.error} />
          </div>
        )}
      </RequireGroup>
    </div>
  );
}

function AddVersion({ strategyId }: { strategyId: string }) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const [params, setParams] = useState("");
  const [notes, setNotes] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const add = $api.useMutation("post", "/v1/strategies/{strategy_id}/versions");
  return (
    <form
      className="inline-form wrap-form add-version"
      data-testid="add-version"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const parsed = parseParams(params);
        setProblem(parsed.problem);
        if (!parsed.value) return;
        add.mutate(
          { params: { path: { strategy_id: strategyId } }, body: { params: parsed.value, notes } },
          { onSuccess: () => { setParams(""); setNotes(""); }, onSettled: () => refresh(queryClient) },
        );
      }}
    >
      <input className="params-input" aria-label="New version parameters" placeholder='parameters, e.g. {"rule_params": {"fast": 10}}' value={params} onChange={(e) => setParams(e.target.value)} />
      <input aria-label="New version notes" placeholder="notes" value={notes} onChange={(e) => setNotes(e.target.value)} />
      <button type="submit" className="btn btn-small" disabled={add.isPending}>
        Add version
      </button>
      {problem && <span className="form-problems-inline">{problem}</span>}
      {add.isError && <ErrorBox title="The version was refused" error={add.error} />}
    </form>
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
        <RequireGroup groups={TRADING_GROUPS}>
          <AddVersion strategyId={strategy.id} />
        </RequireGroup>
        <p className="muted small">
          Paper and live versions run in deployment slots:{" "}
          <Link to={`?view=slots&strategy=${strategy.id}`} data-testid="to-slots">
            deploy, hot-swap, roll back or shadow
          </Link>
          .
        </p>
      </div>
    </Panel>
  );
}

const VIEWS = [
  { value: "library", label: "Library" },
  { value: "slots", label: "Deployment slots" },
] as const;

function LibraryView({ library, strategies, selected, select }: {
  library: { isPending: boolean; isError: boolean; error: unknown; data: unknown };
  strategies: StrategyView[];
  selected: string | null;
  select: (id: string) => void;
}) {
  return (
    <div className="analytics">
      <div className="models-side">
        <RequireGroup groups={TRADING_GROUPS} fallback={<Panel title="Strategies"><p className="muted" data-testid="read-only-note">Read-only: viewers browse the library.</p></Panel>}>
          <CreateStrategy onCreated={select} />
        </RequireGroup>
      </div>
      <div className="analytics-main">
        <Panel title="Library" actions={<Badge tone="info">{strategies.length}</Badge>}>
          {library.isPending && <Loading what="the library" />}
          {library.isError && <ErrorBox title="Library unavailable" error={library.error} />}
          {library.data !== undefined && strategies.length === 0 && <p className="muted" data-testid="library-empty">No strategies yet.</p>}
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
                    onClick={() => select(strategy.id)}
                    onKeyDown={(event) => event.key === "Enter" && select(strategy.id)}
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

/** The strategy library (versions, gated lifecycle, links) and the deployment slots of an account. */
export default function StrategiesPage() {
  const { $api } = useApi();
  const [search, setSearch] = useSearchParams();
  const selected = search.get("strategy");
  const view = VIEWS.find((item) => item.value === search.get("view"))?.value ?? "library";
  const library = $api.useQuery("get", "/v1/strategies", {}, { staleTime: 0 });
  const strategies = (library.data ?? []) as StrategyView[];
  const show = (value: string) => setSearch({ ...(selected ? { strategy: selected } : {}), ...(value === "library" ? {} : { view: value }) });
  return (
    <div className="analytics-page">
      <div className="page-heading">
        <h1>Strategies</h1>
        <div className="intervals" role="tablist" aria-label="Strategies view">
          {VIEWS.map((item) => (
            <button
              key={item.value}
              type="button"
              role="tab"
              aria-selected={view === item.value}
              className={view === item.value ? "seg active" : "seg"}
              onClick={() => show(item.value)}
            >
              {item.label}
            </button>
          ))}
        </div>
      </div>
      {view === "library" && (
        <LibraryView library={library} strategies={strategies} selected={selected} select={(id) => setSearch({ strategy: id })} />
      )}
      {view === "slots" && library.isError && <ErrorBox title="Library unavailable" error={library.error} />}
      {view === "slots" && !library.isError && <SlotsView strategies={strategies} preselect={selected} />}
    </div>
  );
}
