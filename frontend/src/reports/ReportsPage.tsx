import { useState } from "react";

import { useApi } from "../auth/AuthContext";
import { useCompliance } from "../trading/compliance";
import { formatMoney, signClass, useAccount } from "../trading/account";
import { AccountPicker, NoAccount } from "../trading/AccountPicker";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { columnsOf, DataTable, type Column } from "../ui/DataTable";
import { formatUtc } from "../ui/format";

type Row = Record<string, unknown>;
type PnlBy = "day" | "symbol" | "strategy";

const MONEY_KEYS = /pnl|realized|unrealized|gain|loss|proceeds|cost|basis|fees|value|adjust|equity|cash/;

/** Columns for a report's rows: money columns formatted and signed. */
function reportColumns(rows: Row[]): Column<Row>[] {
  return columnsOf(rows).map((column) =>
    column.numeric && MONEY_KEYS.test(column.key)
      ? { ...column, render: (row: Row) => <span className={signClass(row[column.key])}>{formatMoney(row[column.key])}</span> }
      : column,
  );
}

function PnlPanel({ accountId }: { accountId: string }) {
  const { $api } = useApi();
  const [by, setBy] = useState<PnlBy>("symbol");
  const query = $api.useQuery("get", "/v1/accounts/{account_id}/pnl", {
    params: { path: { account_id: accountId }, query: { by } },
  });
  const rows = ((query.data as { rows?: Row[] } | undefined)?.rows ?? []) as Row[];
  const tabs = (
    <div className="intervals" role="tablist" aria-label="P&L by">
      {(["day", "symbol", "strategy"] as PnlBy[]).map((item) => (
        <button key={item} type="button" role="tab" aria-selected={by === item} className={by === item ? "seg active" : "seg"} onClick={() => setBy(item)}>
          by {item}
        </button>
      ))}
    </div>
  );
  return (
    <Panel title="P&L" actions={tabs} className="panel-wide">
      {query.isPending && <Loading what="P&L" />}
      {query.isError && <ErrorBox title="P&L unavailable" error={query.error} onRetry={() => void query.refetch()} />}
      {query.data && <DataTable rows={by === "day" ? [...rows].reverse() : rows} columns={reportColumns(rows)} testId="pnl-table" empty="No fills yet: P&L appears once orders fill." />}
    </Panel>
  );
}

function TaxLotsPanel({ accountId }: { accountId: string }) {
  const { $api } = useApi();
  const query = $api.useQuery("get", "/v1/accounts/{account_id}/taxlots", { params: { path: { account_id: accountId } } });
  const body = query.data as { as_of?: string; lots?: Row[] } | undefined;
  const rows = body?.lots ?? [];
  return (
    <Panel title="Open tax lots" actions={body?.as_of && <span className="muted small">as of {body.as_of}</span>}>
      {query.isPending && <Loading what="tax lots" />}
      {query.isError && <ErrorBox title="Tax lots unavailable" error={query.error} />}
      {body && <DataTable rows={rows} columns={reportColumns(rows)} testId="taxlots-table" empty="No open lots." />}
    </Panel>
  );
}

function RealizedGainsPanel({ accountId }: { accountId: string }) {
  const { $api } = useApi();
  const [year, setYear] = useState(String(new Date().getUTCFullYear()));
  const valid = /^\d{4}$/.test(year) && Number(year) >= 1900 && Number(year) <= 2200;
  const query = $api.useQuery(
    "get",
    "/v1/accounts/{account_id}/reports/realized-gains",
    { params: { path: { account_id: accountId }, query: { tax_year: Number(year) } } },
    { enabled: valid },
  );
  const body = query.data as { short_term?: unknown; long_term?: unknown; total?: unknown; rows?: Row[] } | undefined;
  const rows = body?.rows ?? [];
  const totalKeys = Object.keys((body?.total ?? {}) as Row);
  return (
    <Panel
      title="Realized gains"
      actions={
        <label className="inline-form">
          <span className="muted small">Tax year</span>
          <input aria-label="Tax year" className="year-input" inputMode="numeric" value={year} onChange={(event) => setYear(event.target.value)} />
        </label>
      }
      className="panel-wide"
    >
      {!valid && <p className="form-problems">tax_year must be a year between 1900 and 2200, got {year || "nothing"}</p>}
      {query.isPending && valid && <Loading what="realized gains" />}
      {query.isError && <ErrorBox title="Realized gains unavailable" error={query.error} />}
      {body && (
        <>
          <table className="table table-numeric totals-table" data-testid="gains-totals">
            <thead>
              <tr>
                <th>Term</th>
                {totalKeys.map((key) => (
                  <th key={key} className="num">
                    {key.replace(/_/g, " ")}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {(["short_term", "long_term", "total"] as const).map((term) => {
                const record = (body[term] ?? {}) as Row;
                return (
                  <tr key={term}>
                    <td>{term.replace("_", " ")}</td>
                    {totalKeys.map((key) => (
                      <td key={key} className={`num ${signClass(record[key])}`}>
                        {typeof record[key] === "number" && !MONEY_KEYS.test(key) ? String(record[key]) : formatMoney(record[key])}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
          <DataTable rows={rows} columns={reportColumns(rows)} testId="gains-table" empty={`No lots closed in ${year}.`} />
        </>
      )}
    </Panel>
  );
}

function CompliancePanel({ accountId }: { accountId: string }) {
  const compliance = useCompliance(accountId);
  const report = compliance.report;
  const kills = (report?.kill_switch_events ?? []) as Row[];
  return (
    <Panel title="Compliance">
      {compliance.isPending && <Loading what="the compliance report" />}
      {compliance.isError && <ErrorBox title="Compliance report unavailable" error={compliance.error} />}
      {report && (
        <>
          <p data-testid="compliance-summary">
            <Badge tone={report.rejections.length ? "bad" : "good"}>{report.rejections.length} risk rejections</Badge>
            <Badge tone={kills.length ? "warn" : "good"}>{kills.length} kill-switch events</Badge>
            <Badge tone={report.restricted_list_hits.length ? "bad" : "good"}>{report.restricted_list_hits.length} restricted-list hits</Badge>
          </p>
          {Object.keys(report.rejections_by_rule).length > 0 && (
            <DataTable
              rows={Object.entries(report.rejections_by_rule).map(([rule, count]) => ({ rule, count }))}
              columns={[{ key: "rule", label: "Rule" }, { key: "count", label: "Rejections", numeric: true }]}
            />
          )}
          <h3 className="subhead">Kill-switch history</h3>
          <DataTable
            rows={kills}
            columns={[
              { key: "at", label: "At", render: (row) => formatUtc(String(row.at)) },
              { key: "engaged", label: "Change", render: (row) => (row.engaged ? <Badge tone="bad">engaged</Badge> : <Badge tone="good">reset</Badge>) },
              { key: "by", label: "By" },
              { key: "reason", label: "Reason" },
            ]}
            empty="The kill switch was never operated."
          />
        </>
      )}
    </Panel>
  );
}

function BlotterExport({ accountId }: { accountId: string }) {
  const { client } = useApi();
  const [state, setState] = useState<{ busy: boolean; error: unknown; rows: number | null }>({ busy: false, error: null, rows: null });
  async function download() {
    setState({ busy: true, error: null, rows: null });
    try {
      const { data } = await client.GET("/v1/accounts/{account_id}/reports/blotter", {
        params: { path: { account_id: accountId } },
        parseAs: "text",
      });
      const text = typeof data === "string" ? data : "";
      const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
      const link = document.createElement("a");
      link.href = url;
      link.download = `blotter-${accountId}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setState({ busy: false, error: null, rows: Math.max(0, text.trim().split(/\r?\n/).length - 1) });
    } catch (error) {
      setState({ busy: false, error, rows: null });
    }
  }
  return (
    <Panel title="Trade blotter export">
      <p className="muted">Every fill of the account as CSV (GET …/reports/blotter).</p>
      <button type="button" className="btn" onClick={() => void download()} disabled={state.busy}>
        {state.busy ? "Preparing…" : "↓ Blotter CSV"}
      </button>
      {state.rows !== null && (
        <span className="muted small" data-testid="blotter-export-rows">
          {" "}
          {state.rows} fills exported
        </span>
      )}
      {state.error !== null && <ErrorBox title="Export failed" error={state.error} />}
    </Panel>
  );
}

export default function ReportsPage() {
  const state = useAccount();
  const account = state.account;
  if (!account) {
    return <NoAccount state={state} title="Reports" />;
  }
  return (
    <div className="reports">
      <div className="page-heading">
        <h1>Reports</h1>
        <AccountPicker state={state} />
      </div>
      <div className="reports-grid">
        <PnlPanel accountId={account.id} />
        <RealizedGainsPanel accountId={account.id} />
        <TaxLotsPanel accountId={account.id} />
        <div className="reports-side">
          <CompliancePanel accountId={account.id} />
          <BlotterExport accountId={account.id} />
        </div>
      </div>
    </div>
  );
}
