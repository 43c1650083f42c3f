import { useQueryClient } from "@tanstack/react-query";
import { Fragment, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";

import type { components } from "../api/schema";
import { useApi } from "../auth/AuthContext";
import { RequireGroup, TRADING_GROUPS } from "../auth/RequireGroup";
import { AccountPicker, NoAccount } from "../trading/AccountPicker";
import { formatMoney, useAccount, type AccountView } from "../trading/account";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { formatUtc } from "../ui/format";
import {
  barStart,
  DEPLOYABLE,
  emptyDeployForm,
  pairDecisions,
  parseStrategyRef,
  planDeploy,
  planText,
  refLabel,
  refOf,
  SHADOWABLE,
  stateNote,
  type Decision,
  type DecisionPage,
  type DeployForm,
  type SlotView,
  type VersionRef,
} from "./slots";

type StrategyView = components["schemas"]["StrategyView"];

interface VersionInfo {
  version: number;
  state: string;
  params: Record<string, unknown>;
}

/** The versions of a strategy (newest first), fetched when one is chosen. */
function useVersions(strategyId: string) {
  const { $api } = useApi();
  const query = $api.useQuery(
    "get",
    "/v1/strategies/{strategy_id}",
    { params: { path: { strategy_id: strategyId } } },
    { enabled: strategyId !== "", staleTime: 0 },
  );
  const versions = ((query.data?.versions ?? []) as unknown as VersionInfo[]).slice().sort((a, b) => b.version - a.version);
  return { query, versions };
}

function refreshSlots(queryClient: ReturnType<typeof useQueryClient>) {
  for (const path of ["/v1/accounts/{account_id}/slots", "/v1/accounts/{account_id}/slots/{slot}/decisions", "/v1/strategies/{strategy_id}"]) {
    void queryClient.invalidateQueries({ queryKey: ["get", path] });
  }
}

/** A strategy and one of its versions, as two selects (the version list follows the strategy). */
function VersionPicker({ strategies, strategyId, version, allowed, onChange, label }: {
  strategies: StrategyView[];
  strategyId: string;
  version: string;
  allowed: readonly string[];
  onChange: (strategyId: string, version: string) => void;
  label: string;
}) {
  const { query, versions } = useVersions(strategyId);
  const chosen = versions.find((item) => String(item.version) === version);
  const note = stateNote(chosen?.state, allowed, label === "Shadow" ? "a shadow" : "a slot");
  return (
    <>
      <label className="field field-wide">
        <span className="field-label">{label} strategy</span>
        <select aria-label={`${label} strategy`} value={strategyId} onChange={(e) => onChange(e.target.value, "")}>
          <option value="">choose…</option>
          {strategies.map((item) => (
            <option key={item.id} value={item.id}>
              {item.name} ({item.code})
            </option>
          ))}
        </select>
      </label>
      <label className="field field-wide">
        <span className="field-label">{label} version</span>
        <select aria-label={`${label} version`} value={version} disabled={!strategyId} onChange={(e) => onChange(strategyId, e.target.value)}>
          <option value="">{query.isFetching && !versions.length ? "loading…" : "choose…"}</option>
          {versions.map((item) => (
            <option key={item.version} value={String(item.version)}>
              v{item.version} · {item.state}
              {allowed.includes(item.state) ? "" : " (not eligible)"}
            </option>
          ))}
        </select>
      </label>
      {query.isError && <ErrorBox title="Versions unavailable" error={query.error} />}
      {chosen && (
        <p className="muted small" data-testid={`${label.toLowerCase()}-version-params`}>
          <span className="mono">{JSON.stringify(chosen.params)}</span>
        </p>
      )}
      {note && (
        <p className="small slot-note" data-testid={`${label.toLowerCase()}-state-note`}>
          {note}
        </p>
      )}
    </>
  );
}

function DeployPanel({ account, slots, strategies, form, setForm, onDeployed }: {
  account: AccountView;
  slots: SlotView[];
  strategies: StrategyView[];
  form: DeployForm;
  setForm: (form: DeployForm) => void;
  onDeployed: (slot: string) => void;
}) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const symbolsQuery = $api.useQuery("get", "/v1/marketdata/symbols", {}, { staleTime: 5 * 60_000 });
  const deploy = $api.useMutation("put", "/v1/accounts/{account_id}/slots/{slot}");
  const [problems, setProblems] = useState<string[]>([]);
  const existing = slots.find((item) => item.slot === form.slot.trim()) ?? null;
  function submit(event: FormEvent) {
    event.preventDefault();
    const plan = planDeploy(form, existing);
    setProblems(plan.problems);
    if (!plan.request) return;
    const slot = form.slot.trim();
    deploy.mutate(
      { params: { path: { account_id: account.id, slot } }, body: plan.request },
      {
        onSuccess: () => {
          setForm({ ...form, slot, symbol: "", capital: "" }); // the slot has them now (shown as placeholders)
          onDeployed(slot);
        },
        onSettled: () => refreshSlots(queryClient),
      },
    );
  }
  return (
    <Panel title="Deploy or hot-swap" actions={existing ? <Badge tone="info">rev {existing.revision}</Badge> : <Badge tone="neutral">new slot</Badge>}>
      <form className="backtest-form" onSubmit={submit} noValidate data-testid="deploy-form">
        <label className="field field-wide">
          <span className="field-label">Slot</span>
          <input aria-label="Slot" list="slot-names" value={form.slot} onChange={(e) => setForm({ ...form, slot: e.target.value })} />
          <datalist id="slot-names">
            {slots.map((item) => (
              <option key={item.slot} value={item.slot} />
            ))}
          </datalist>
        </label>
        <VersionPicker
          label="Deploy"
          strategies={strategies}
          strategyId={form.strategyId}
          version={form.version}
          allowed={DEPLOYABLE}
          onChange={(strategyId, version) => setForm({ ...form, strategyId, version })}
        />
        <div className="field-grid">
          <label className="field">
            <span className="field-label">Symbol{existing ? "" : " (new slot)"}</span>
            <input
              aria-label="Symbol"
              list="slot-symbols"
              placeholder={existing ? existing.symbol : "e.g. SP500"}
              value={form.symbol}
              onChange={(e) => setForm({ ...form, symbol: e.target.value })}
            />
            <datalist id="slot-symbols">
              {(symbolsQuery.data?.symbols ?? []).map((item) => (
                <option key={item.symbol} value={item.symbol} />
              ))}
            </datalist>
          </label>
          <label className="field">
            <span className="field-label">Capital</span>
            <input
              aria-label="Capital"
              inputMode="decimal"
              placeholder={existing ? formatMoney(existing.capital) : "100,000 (default)"}
              value={form.capital}
              onChange={(e) => setForm({ ...form, capital: e.target.value })}
            />
          </label>
        </div>
        <p className="muted small">
          {existing
            ? `Swaps ${existing.slot} from ${existing.strategy} at revision ${existing.revision}: the runtime applies it from the next bar; a change made meanwhile is refused (409).`
            : "Creates the slot: the runtime decides on each closed bar of the symbol and orders through pre-trade risk."}
        </p>
        {problems.length > 0 && (
          <ul className="form-problems" data-testid="deploy-problems">
            {problems.map((item) => (
              <li key={item}>{item}</li>
            ))}
          </ul>
        )}
        {deploy.isError && (
          <div data-testid="deploy-error">
            <ErrorBox title="The slot was refused" error={deploy.error} />
          </div>
        )}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={deploy.isPending}>
            {deploy.isPending ? "Deploying…" : existing ? "Hot-swap" : "Deploy"}
          </button>
        </div>
      </form>
    </Panel>
  );
}

function ShadowControls({ account, slot, strategies }: { account: AccountView; slot: SlotView; strategies: StrategyView[] }) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const current = refOf(slot.shadow);
  const [strategyId, setStrategyId] = useState(current?.strategy_id ?? slot.strategy_id);
  const [version, setVersion] = useState(current ? String(current.version) : "");
  const shadow = $api.useMutation("put", "/v1/accounts/{account_id}/slots/{slot}/shadow");
  const path = { account_id: account.id, slot: slot.slot };
  const send = (body: { strategy_id: string | null; version: number | null }) =>
    shadow.mutate({ params: { path }, body }, { onSettled: () => refreshSlots(queryClient) });
  return (
    <form
      className="backtest-form shadow-form"
      noValidate
      data-testid="shadow-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (strategyId && version) send({ strategy_id: strategyId, version: Number(version) });
      }}
    >
      <h3 className="subhead">Shadow (decides beside the slot, places no orders)</h3>
      <VersionPicker
        label="Shadow"
        strategies={strategies}
        strategyId={strategyId}
        version={version}
        allowed={SHADOWABLE}
        onChange={(id, v) => {
          setStrategyId(id);
          setVersion(v);
        }}
      />
      {shadow.isError && (
        <div data-testid="shadow-error">
          <ErrorBox title="The shadow was refused" error={shadow.error} />
        </div>
      )}
      <div className="form-actions form-actions-row">
        <button type="submit" className="btn" disabled={shadow.isPending || !strategyId || !version}>
          Set shadow
        </button>
        {current && (
          <button type="button" className="btn" disabled={shadow.isPending} onClick={() => send({ strategy_id: null, version: null })}>
            Stop shadow
          </button>
        )}
      </div>
    </form>
  );
}

function SlotDetail({ account, slot, strategies, names }: {
  account: AccountView;
  slot: SlotView;
  strategies: StrategyView[];
  names: ReadonlyMap<string, string>;
}) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const rollback = $api.useMutation("post", "/v1/accounts/{account_id}/slots/{slot}/rollback");
  const running: VersionRef = { strategy_id: slot.strategy_id, version: slot.version };
  const previous = refOf(slot.previous);
  const shadow = refOf(slot.shadow);
  const error = slot.error as { error?: string; at?: string; bar_id?: string } | null;
  return (
    <Panel
      title={`Slot ${slot.slot}`}
      actions={
        <Badge tone={slot.status === "active" ? "good" : "bad"} title={`revision ${slot.revision}`}>
          {slot.status}
        </Badge>
      }
    >
      <div className="slot-detail" data-testid="slot-detail" data-revision={slot.revision} data-strategy={slot.strategy}>
        <dl className="facts small slot-facts">
          <dt>Running</dt>
          <dd data-testid="slot-running">
            {refLabel(running, names)} <code className="muted">{slot.strategy}</code>
          </dd>
          <dt>Symbol · capital</dt>
          <dd>
            {slot.symbol} · {formatMoney(slot.capital)}
          </dd>
          <dt>Previous (rollback target)</dt>
          <dd data-testid="slot-previous">{refLabel(previous, names)}</dd>
          <dt>Shadow</dt>
          <dd data-testid="slot-shadow">{refLabel(shadow, names)}</dd>
          <dt>Revision</dt>
          <dd data-testid="slot-revision">{slot.revision}</dd>
          <dt>Deployed</dt>
          <dd>
            {formatUtc(slot.deployed_at)} by {slot.deployed_by}
          </dd>
        </dl>
        {error && (
          <p className="slot-error" role="alert">
            Paused on bar {error.bar_id ?? "?"} ({formatUtc(error.at)}): {error.error ?? JSON.stringify(error)}. Deploy a version again to resume.
          </p>
        )}
        <RequireGroup groups={TRADING_GROUPS}>
          <div className="slot-controls">
            <button
              type="button"
              className="btn"
              disabled={!previous || rollback.isPending}
              title={previous ? `Swap back to ${refLabel(previous, names)} (one call)` : "No previous version: nothing to roll back to"}
              onClick={() => rollback.mutate({ params: { path: { account_id: account.id, slot: slot.slot } } }, { onSettled: () => refreshSlots(queryClient) })}
            >
              {previous ? `Roll back to v${previous.version}` : "Roll back"}
            </button>
            {rollback.isError && (
              <div data-testid="rollback-error">
                <ErrorBox title="The rollback was refused" error={rollback.error} />
              </div>
            )}
          </div>
          <ShadowControls key={`${slot.slot}-${slot.revision}`} account={account} slot={slot} strategies={strategies} />
        </RequireGroup>
      </div>
    </Panel>
  );
}

function DecisionCell({ decision, names }: { decision: Decision | null; names: ReadonlyMap<string, string> }) {
  if (!decision) {
    return <td className="decision-cell muted">—</td>;
  }
  const tone = decision.status === "error" ? "bad" : decision.status === "ordered" ? "good" : "info";
  const orders = decision.orders ?? [];
  return (
    <td className="decision-cell" data-testid={`decision-${decision.mode}`} data-strategy={decision.strategy}>
      <div>
        <strong>{refLabel(parseStrategyRef(decision.strategy), names)}</strong> <Badge tone={tone}>{decision.status}</Badge>
      </div>
      {decision.error ? (
        <div className="down small">{decision.error}</div>
      ) : (
        <div className="small mono">
          target {decision.target === null ? "—" : decision.target.toFixed(2)} · signal {decision.signal === null ? "—" : decision.signal.toFixed(3)}
        </div>
      )}
      <div className="small">
        {decision.mode === "shadow" ? "would order: " : "plan: "}
        {planText(decision.plan)}
        {orders.length > 0 && (
          <span className="muted">
            {" "}
            → {orders.map((order) => `${order.side} ${order.quantity} ${order.status}`).join(", ")}
          </span>
        )}
      </div>
    </td>
  );
}

/** A decision input as text: numbers with at most 4 decimals, strings as they are, anything else as JSON. */
function inputText(value: unknown): string {
  if (typeof value === "number") return value.toLocaleString("en-US", { maximumFractionDigits: 4 });
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

function InputsRow({ live, shadow }: { live: Decision | null; shadow: Decision | null }) {
  const facts = (decision: Decision | null) =>
    decision?.inputs ? (
      <dl className="facts small">
        {Object.entries(decision.inputs).map(([key, value]) => (
          <span key={key} className="contents">
            <dt>{key}</dt>
            <dd className="mono">{inputText(value)}</dd>
          </span>
        ))}
      </dl>
    ) : (
      <span className="muted small">no inputs recorded</span>
    );
  return (
    <tr className="inputs-row">
      <td />
      <td>{facts(live)}</td>
      <td>{facts(shadow)}</td>
    </tr>
  );
}

function DecisionsPanel({ account, slot, names }: { account: AccountView; slot: SlotView; names: ReadonlyMap<string, string> }) {
  const { $api } = useApi();
  const [limit, setLimit] = useState(50);
  const [open, setOpen] = useState<string | null>(null);
  const query = $api.useQuery(
    "get",
    "/v1/accounts/{account_id}/slots/{slot}/decisions",
    { params: { path: { account_id: account.id, slot: slot.slot }, query: { limit } } },
    { staleTime: 0, refetchInterval: 15_000 },
  );
  const page = query.data as unknown as DecisionPage | undefined;
  const pairs = pairDecisions(page?.decisions ?? []);
  return (
    <Panel
      title={`Decisions of ${slot.slot}`}
      className="decisions-panel"
      actions={
        <>
          <select aria-label="Decisions shown" value={limit} onChange={(e) => setLimit(Number(e.target.value))}>
            {[50, 200, 500].map((value) => (
              <option key={value} value={value}>
                last {value}
              </option>
            ))}
          </select>
          <button type="button" className="btn btn-small" onClick={() => void query.refetch()} disabled={query.isFetching}>
            {query.isFetching ? "Refreshing…" : "Refresh"}
          </button>
        </>
      }
    >
      {query.isPending && <Loading what="the decisions" />}
      {query.isError && <ErrorBox title="Decisions unavailable" error={query.error} onRetry={() => void query.refetch()} />}
      {page && pairs.length === 0 && (
        <p className="muted" data-testid="decisions-empty">
          No decisions yet: the runtime decides on each closed bar of {slot.symbol} (and after the close, on the latest bar).
        </p>
      )}
      {pairs.length > 0 && (
        <div className="table-scroll">
          <table className="table decisions-table" data-testid="decisions">
            <thead>
              <tr>
                <th>Bar</th>
                <th>Live</th>
                <th>Shadow</th>
              </tr>
            </thead>
            <tbody>
              {pairs.map((pair) => (
                <Fragment key={pair.barId}>
                  <tr data-testid="decision-pair" data-bar-id={pair.barId}>
                    <td className="nowrap">
                      <div>{formatUtc(barStart(pair.barId) ?? pair.live?.at ?? pair.shadow?.at)}</div>
                      <div className="muted small">{pair.symbol}</div>
                      <button
                        type="button"
                        className="btn btn-small"
                        aria-expanded={open === pair.barId}
                        onClick={() => setOpen(open === pair.barId ? null : pair.barId)}
                      >
                        {open === pair.barId ? "Hide inputs" : "Inputs"}
                      </button>
                    </td>
                    <DecisionCell decision={pair.live} names={names} />
                    <DecisionCell decision={pair.shadow} names={names} />
                  </tr>
                  {open === pair.barId && <InputsRow live={pair.live} shadow={pair.shadow} />}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page?.next_cursor && <p className="muted small">Older decisions exist: show more with the selector above.</p>}
    </Panel>
  );
}

/** Deployment slots of one account: deploy / hot-swap, rollback, shadow, and the explain log. */
export function SlotsView({ strategies, preselect }: { strategies: StrategyView[]; preselect: string | null }) {
  const { $api } = useApi();
  const state = useAccount();
  const [search, setSearch] = useSearchParams();
  const [form, setForm] = useState<DeployForm>({ ...emptyDeployForm, strategyId: preselect ?? "" });
  const account = state.account;
  const slotsQuery = $api.useQuery(
    "get",
    "/v1/accounts/{account_id}/slots",
    { params: { path: { account_id: account?.id ?? "" } } },
    { enabled: account !== null, staleTime: 0 },
  );
  if (!account) {
    if (state.accounts.isPending || state.accounts.isError) {
      return <NoAccount state={state} title="Deployment slots" />;
    }
    return (
      <div className="slots-none">
        <Panel title="Deployment slots">
          <p className="muted" data-testid="no-account">
            You have no trading account, so no slots: a slot runs one paper or live version on one symbol of an account.
          </p>
          <RequireGroup
            groups={TRADING_GROUPS}
            fallback={
              <p className="muted small" data-testid="slots-read-only">
                Viewers only read: deploying, hot-swapping, rolling back and shadowing need the trader group.
              </p>
            }
          >
            <p className="muted small">Open an account (POST /v1/accounts) to deploy into it.</p>
          </RequireGroup>
        </Panel>
      </div>
    );
  }
  const slots = (slotsQuery.data ?? []) as SlotView[];
  const names = new Map(strategies.map((item) => [item.id, item.name]));
  const selectedName = search.get("slot");
  const selected = slots.find((item) => item.slot === selectedName) ?? null;
  const choose = (slot: string) =>
    setSearch((params) => {
      const next = new URLSearchParams(params);
      next.set("slot", slot);
      return next;
    });
  return (
    <div className="analytics">
      <div className="models-side">
        <RequireGroup
          groups={TRADING_GROUPS}
          fallback={
            <Panel title="Deploy or hot-swap">
              <p className="muted" data-testid="slots-read-only">
                Read-only: deploying, hot-swapping, rolling back and shadowing need the trader group.
              </p>
            </Panel>
          }
        >
          <DeployPanel
            account={account}
            slots={slots}
            strategies={strategies}
            form={form}
            setForm={setForm}
            onDeployed={choose}
          />
        </RequireGroup>
      </div>
      <div className="analytics-main">
        <Panel
          title="Deployment slots"
          actions={
            <>
              <AccountPicker state={state} />
              <Badge tone="info">{slots.length}</Badge>
            </>
          }
        >
          {slotsQuery.isPending && <Loading what="the slots" />}
          {slotsQuery.isError && <ErrorBox title="Slots unavailable" error={slotsQuery.error} onRetry={() => void slotsQuery.refetch()} />}
          {slotsQuery.data && slots.length === 0 && (
            <p className="muted" data-testid="slots-empty">
              No slots in this account yet. A slot runs one paper or live version on one symbol.
            </p>
          )}
          {slots.length > 0 && (
            <table className="table" data-testid="slots">
              <thead>
                <tr>
                  <th>Slot</th>
                  <th>Symbol</th>
                  <th>Running</th>
                  <th>Shadow</th>
                  <th>Status</th>
                  <th className="num">Rev</th>
                  <th>Deployed</th>
                </tr>
              </thead>
              <tbody>
                {slots.map((slot) => (
                  <tr
                    key={slot.slot}
                    data-testid="slot-row"
                    data-slot={slot.slot}
                    className={slot.slot === selected?.slot ? "row-selected clickable" : "clickable"}
                    tabIndex={0}
                    aria-selected={slot.slot === selected?.slot}
                    onClick={() => {
                      choose(slot.slot);
                      setForm({ ...form, slot: slot.slot });
                    }}
                    onKeyDown={(event) => {
                      if (event.key === "Enter") {
                        choose(slot.slot);
                        setForm({ ...form, slot: slot.slot });
                      }
                    }}
                  >
                    <td>
                      <strong>{slot.slot}</strong>
                    </td>
                    <td>{slot.symbol}</td>
                    <td>{refLabel({ strategy_id: slot.strategy_id, version: slot.version }, names)}</td>
                    <td>{refLabel(refOf(slot.shadow), names)}</td>
                    <td>
                      <Badge tone={slot.status === "active" ? "good" : "bad"}>{slot.status}</Badge>
                    </td>
                    <td className="num">{slot.revision}</td>
                    <td className="nowrap">
                      {formatUtc(slot.deployed_at)} <span className="muted">{slot.deployed_by}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
        {selected && (
          <>
            <SlotDetail account={account} slot={selected} strategies={strategies} names={names} />
            <DecisionsPanel account={account} slot={selected} names={names} />
          </>
        )}
      </div>
    </div>
  );
}
