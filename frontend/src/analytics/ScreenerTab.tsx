import { useState, type FormEvent } from "react";

import { useApi } from "../auth/AuthContext";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { DataTable } from "../ui/DataTable";
import { useCatalogue } from "./ScannersTab";

interface Condition {
  field: string;
  op: string;
  value: string;
}

interface ScreenResult {
  as_of: string;
  universe: number;
  matched: number;
  rows: { symbol: string; values: Record<string, number | null> }[];
  not_trading?: string[];
}

/** The filter language's JSON: {"all": [{field, op, value}, ...]}; problems name the row. */
export function buildFilter(conditions: Condition[]): { filter: { all: { field: string; op: string; value: number }[] } | null; problems: string[] } {
  const problems: string[] = [];
  const all = conditions.flatMap((row, index) => {
    const value = Number(row.value);
    if (row.value.trim() === "" || !Number.isFinite(value)) {
      problems.push(`condition ${index + 1} (${row.field}): value must be a number, got ${row.value || "nothing"}`);
      return [];
    }
    return [{ field: row.field, op: row.op, value }];
  });
  return { filter: all.length ? { all } : null, problems };
}

export function ScreenerTab() {
  const { $api } = useApi();
  const { catalogue, isPending, isError, error } = useCatalogue();
  const [conditions, setConditions] = useState<Condition[]>([{ field: "return_20d", op: ">", value: "0" }]);
  const [sortField, setSortField] = useState("return_20d");
  const [order, setOrder] = useState("desc");
  const [problems, setProblems] = useState<string[]>([]);
  const run = $api.useMutation("post", "/v1/screener/run");
  if (isPending) return <Loading what="the screener fields" />;
  if (isError || !catalogue) return <ErrorBox title="Screener unavailable" error={error} />;
  const fields = catalogue.screener_fields;
  const ops = catalogue.screener_ops;
  function submit(event: FormEvent) {
    event.preventDefault();
    const built = buildFilter(conditions);
    setProblems(built.problems);
    if (built.problems.length) return;
    run.mutate({ body: { filter: built.filter, sort: [{ field: sortField, order }], limit: 50 } });
  }
  const result = run.data as unknown as ScreenResult | undefined;
  const shownFields = [...new Set([...conditions.map((c) => c.field), sortField])];
  return (
    <div className="analytics">
      <Panel title="Screener">
        <form className="backtest-form" onSubmit={submit} noValidate data-testid="screener-form">
          <h3 className="subhead">All of</h3>
          {conditions.map((row, index) => (
            <div key={index} className="condition-row">
              <select aria-label={`Field ${index + 1}`} value={row.field} onChange={(e) => setConditions(conditions.map((c, i) => (i === index ? { ...c, field: e.target.value } : c)))}>
                {fields.map((field) => (
                  <option key={field}>{field}</option>
                ))}
              </select>
              <select aria-label={`Operator ${index + 1}`} value={row.op} onChange={(e) => setConditions(conditions.map((c, i) => (i === index ? { ...c, op: e.target.value } : c)))}>
                {ops.map((op) => (
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
          <div className="field-grid">
            <select aria-label="Sort field" value={sortField} onChange={(e) => setSortField(e.target.value)}>
              {fields.map((field) => (
                <option key={field}>{field}</option>
              ))}
            </select>
            <select aria-label="Sort order" value={order} onChange={(e) => setOrder(e.target.value)}>
              <option value="desc">descending</option>
              <option value="asc">ascending</option>
            </select>
          </div>
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
