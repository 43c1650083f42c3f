import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { useApi } from "../auth/AuthContext";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { DataTable } from "../ui/DataTable";
import { formatUtc } from "../ui/format";
import { useCatalogue } from "./ScannersTab";
import {
  defaultScreener,
  describeDefinition,
  saveBody,
  screenDefinition,
  stateFromDefinition,
  type Condition,
  type SavedScreen,
  type ScreenDefinition,
  type ScreenerState,
} from "./screens";

export { buildFilter } from "./screens";

interface ScreenResult {
  as_of: string;
  universe: number;
  matched: number;
  rows: { symbol: string; values: Record<string, number | null> }[];
  not_trading?: string[];
}

const SCREENS = ["get", "/v1/screens"] as const;

/** The options of a field select: the catalogue's, plus the current value when a loaded screen uses another. */
function fieldOptions(fields: string[], current: string): string[] {
  return current && !fields.includes(current) ? [current, ...fields] : fields;
}

function SavedScreens({ state, onLoad, onDeleted }: {
  state: ScreenerState;
  onLoad: (screen: SavedScreen, definition: ScreenerState) => void;
  onDeleted: (id: string) => void;
}) {
  const { $api, client } = useApi();
  const queryClient = useQueryClient();
  const list = $api.useQuery("get", "/v1/screens", {}, { staleTime: 0 });
  const save = $api.useMutation("post", "/v1/screens");
  const remove = $api.useMutation("delete", "/v1/screens/{screen_id}");
  const [name, setName] = useState("");
  const [daily, setDaily] = useState(false);
  const [problems, setProblems] = useState<string[]>([]);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [loading, setLoading] = useState<string | null>(null);
  const [loadProblem, setLoadProblem] = useState<{ id: string; message: string } | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const screens = ((list.data as unknown as { screens?: SavedScreen[] } | undefined)?.screens ?? [])
    .slice()
    .sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  const refresh = () => void queryClient.invalidateQueries({ queryKey: SCREENS });

  function submit(event: FormEvent) {
    event.preventDefault();
    const built = saveBody(name, state, daily);
    setProblems(built.problems);
    if (!built.body) return;
    save.mutate({ body: built.body }, { onSuccess: () => setName(""), onSettled: refresh });
  }

  async function load(id: string) {
    // Read fresh from the API (the list may be stale, and another tab may have deleted it).
    setLoading(id);
    setLoadProblem(null);
    setLoadError(null);
    try {
      const { data } = await client.GET("/v1/screens/{screen_id}", { params: { path: { screen_id: id } } });
      const screen = data as unknown as SavedScreen;
      const { state: loaded, problem } = stateFromDefinition(screen.definition);
      if (!loaded) {
        setLoadProblem({ id, message: `“${screen.name}” cannot be shown in the form: ${problem}` });
        return;
      }
      onLoad(screen, loaded);
    } catch (error) {
      setLoadError(error);
      refresh();
    } finally {
      setLoading(null);
    }
  }

  return (
    <Panel title="Saved screens" actions={<Badge tone="info">{screens.length}</Badge>}>
      <form className="inline-form wrap-form save-screen" onSubmit={submit} noValidate data-testid="save-screen-form">
        <input aria-label="Screen name" placeholder="name of this screen" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        <label className="kind-option">
          <input type="checkbox" checked={daily} onChange={(e) => setDaily(e.target.checked)} /> run daily
        </label>
        <button type="submit" className="btn btn-small" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save screen"}
        </button>
      </form>
      {problems.length > 0 && (
        <ul className="form-problems" data-testid="save-screen-problems">
          {problems.map((item) => (
            <li key={item}>{item}</li>
          ))}
        </ul>
      )}
      {save.isError && <ErrorBox title="The screen was not saved" error={save.error} />}
      {remove.isError && <ErrorBox title="The screen was not deleted" error={remove.error} />}
      {loadError !== null && <ErrorBox title="The screen could not be loaded" error={loadError} />}
      {list.isPending && <Loading what="your screens" />}
      {list.isError && <ErrorBox title="Saved screens unavailable" error={list.error} onRetry={() => void list.refetch()} />}
      {list.data && screens.length === 0 && (
        <p className="muted small" data-testid="screens-empty">
          No saved screens. Save the current filter and sort under a name to run it again later (or daily).
        </p>
      )}
      {screens.length > 0 && (
        <ul className="screen-list" data-testid="saved-screens">
          {screens.map((screen) => (
            <li key={screen.id} className="screen-item" data-testid="saved-screen" data-screen-id={screen.id}>
              <div className="screen-head">
                <strong>{screen.name}</strong>
                {screen.schedule && <Badge tone="info">{screen.schedule}</Badge>}
              </div>
              <div className="muted small mono">{describeDefinition(screen.definition)}</div>
              <div className="muted small">
                saved {formatUtc(screen.created_at)}
                {screen.last_run && (
                  <>
                    {" "}
                    · last run {screen.last_run.as_of}: {screen.last_run.matched} matched
                  </>
                )}
              </div>
              {loadProblem?.id === screen.id && <p className="small slot-note">{loadProblem.message}</p>}
              <div className="screen-actions">
                <button type="button" className="btn btn-small" disabled={loading === screen.id} onClick={() => void load(screen.id)} aria-label={`Load ${screen.name}`}>
                  {loading === screen.id ? "Loading…" : "Load"}
                </button>
                {confirming === screen.id ? (
                  <>
                    <button
                      type="button"
                      className="btn btn-small btn-danger"
                      disabled={remove.isPending}
                      aria-label={`Confirm delete ${screen.name}`}
                      onClick={() =>
                        remove.mutate(
                          { params: { path: { screen_id: screen.id } } },
                          { onSuccess: () => onDeleted(screen.id), onSettled: () => { setConfirming(null); refresh(); } },
                        )
                      }
                    >
                      Confirm delete
                    </button>
                    <button type="button" className="btn btn-small" onClick={() => setConfirming(null)}>
                      Keep
                    </button>
                  </>
                ) : (
                  <button type="button" className="btn btn-small" onClick={() => setConfirming(screen.id)} aria-label={`Delete ${screen.name}`}>
                    Delete
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

export function ScreenerTab() {
  const { $api } = useApi();
  const { catalogue, isPending, isError, error } = useCatalogue();
  const [state, setState] = useState<ScreenerState>(defaultScreener);
  const [problems, setProblems] = useState<string[]>([]);
  const [loaded, setLoaded] = useState<{ id: string; name: string } | null>(null);
  const [ran, setRan] = useState<ScreenDefinition | null>(null);
  const run = $api.useMutation("post", "/v1/screener/run");
  if (isPending) return <Loading what="the screener fields" />;
  if (isError || !catalogue) return <ErrorBox title="Screener unavailable" error={error} />;
  const fields = catalogue.screener_fields;
  const ops = catalogue.screener_ops;
  const conditions = state.conditions;
  const setConditions = (next: Condition[]) => setState({ ...state, conditions: next });
  function runScreen(next: ScreenerState) {
    const built = screenDefinition(next);
    setProblems(built.problems);
    if (!built.definition) return;
    setRan(built.definition);
    run.mutate({ body: built.definition });
  }
  function submit(event: FormEvent) {
    event.preventDefault();
    runScreen(state);
  }
  const result = run.data as unknown as ScreenResult | undefined;
  const shown = ran ?? screenDefinition(state).definition;
  const shownFields = [...new Set([...(shown?.filter?.all.map((c) => c.field) ?? []), ...(shown?.sort.map((s) => s.field) ?? [])])];
  return (
    <div className="analytics">
      <div className="models-side">
        <Panel title="Screener" actions={loaded ? <span className="muted small" data-testid="loaded-screen">loaded “{loaded.name}”</span> : undefined}>
          <form className="backtest-form" onSubmit={submit} noValidate data-testid="screener-form">
            <h3 className="subhead">All of</h3>
            {conditions.map((row, index) => (
              <div key={index} className="condition-row">
                <select aria-label={`Field ${index + 1}`} value={row.field} onChange={(e) => setConditions(conditions.map((c, i) => (i === index ? { ...c, field: e.target.value } : c)))}>
                  {fieldOptions(fields, row.field).map((field) => (
                    <option key={field}>{field}</option>
                  ))}
                </select>
                <select aria-label={`Operator ${index + 1}`} value={row.op} onChange={(e) => setConditions(conditions.map((c, i) => (i === index ? { ...c, op: e.target.value } : c)))}>
                  {fieldOptions(ops, row.op).map((op) => (
                    <option key={op}>{op}</option>
                  ))}
                </select>
                <input aria-label={`Value ${index + 1}`} value={row.value} onChange={(e) => setConditions(conditions.map((c, i) => (i === index ? { ...c, value: e.target.value } : c)))} />
                <button type="button" className="btn btn-small" aria-label={`Remove condition ${index + 1}`} onClick={() => setConditions(conditions.filter((_, i) => i !== index))}>
                  ×
                </button>
              </div>
            ))}
            <button type="button" className="btn btn-small" onClick={() => setConditions([...conditions, { field: fields[0] ?? "price", op: ">", value: "" }])}>
              + condition
            </button>
            <h3 className="subhead">Sort</h3>
            <div className="field-grid sort-grid">
              <label className="field">
                <span className="field-label">By</span>
                <select aria-label="Sort field" value={state.sortField} onChange={(e) => setState({ ...state, sortField: e.target.value })}>
                  <option value="">(no sort)</option>
                  {fieldOptions(fields, state.sortField).map((field) => (
                    <option key={field}>{field}</option>
                  ))}
                </select>
              </label>
              <label className="field">
                <span className="field-label">Order</span>
                <select aria-label="Sort order" value={state.order} onChange={(e) => setState({ ...state, order: e.target.value === "asc" ? "asc" : "desc" })}>
                  <option value="desc">descending</option>
                  <option value="asc">ascending</option>
                </select>
              </label>
              <label className="field">
                <span className="field-label">Rows</span>
                <input aria-label="Rows" inputMode="numeric" value={state.limit} onChange={(e) => setState({ ...state, limit: e.target.value })} />
              </label>
            </div>
            {state.symbols && (
              <p className="muted small">
                Universe of the loaded screen: {state.symbols.join(", ")}{" "}
                <button type="button" className="btn btn-small" onClick={() => setState({ ...state, symbols: null })}>
                  every symbol
                </button>
              </p>
            )}
            {problems.length > 0 && (
              <ul className="form-problems">
                {problems.map((item) => (
                  <li key={item}>{item}</li>
                ))}
              </ul>
            )}
            {run.isError && <ErrorBox title="The screen was refused" error={run.error} />}
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={run.isPending}>
                {run.isPending ? "Screening…" : "Run screen"}
              </button>
            </div>
          </form>
        </Panel>
        <SavedScreens
          state={state}
          onLoad={(screen, next) => {
            setState(next);
            setLoaded({ id: screen.id, name: screen.name });
            runScreen(next);
          }}
          onDeleted={(id) => setLoaded((current) => (current?.id === id ? null : current))}
        />
      </div>
      <div className="analytics-main">
        {result ? (
          <Panel title={`Matches as of ${result.as_of}`} actions={<Badge tone="info">{result.matched} of {result.universe}</Badge>}>
            <DataTable
              testId="screener-rows"
              rows={result.rows.map((row) => ({ symbol: row.symbol, ...row.values }))}
              empty="Nothing matches."
              columns={[
                { key: "symbol", label: "Symbol", render: (row) => <strong>{String(row.symbol)}</strong> },
                ...shownFields.map((field) => ({
                  key: field,
                  label: field.replace(/_/g, " "),
                  numeric: true,
                  render: (row: Record<string, unknown>) => (typeof row[field] === "number" ? (row[field] as number).toFixed(4) : "—"),
                })),
              ]}
            />
            {result.not_trading && result.not_trading.length > 0 && <p className="muted small">Not trading on that date: {result.not_trading.join(", ")}</p>}
          </Panel>
        ) : (
          <Panel title="Matches">
            <p className="muted">Filter the universe by returns, volatility, volume, indicators and scanner scores; sort by any field.</p>
          </Panel>
        )}
      </div>
    </div>
  );
}
