import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { useApi, useAuth } from "../auth/AuthContext";
import { hasAnyGroup } from "../auth/jwt";
import { RequireGroup, TRADING_GROUPS } from "../auth/RequireGroup";
import { formatMoney, killState, useAccount, type AccountView } from "../trading/account";
import { AccountPicker, KillBadges, NoAccount } from "../trading/AccountPicker";
import { useCompliance } from "../trading/compliance";
import { usePositions } from "../trading/positions";
import { RejectionTable } from "../trading/RejectionTable";
import { violationsOf } from "../trading/ticket";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { formatUtc } from "../ui/format";
import { LIMIT_LABELS, limitsChanges, limitsToForm } from "./limits";

function useIsAdmin(): boolean {
  const { session } = useAuth();
  return session !== null && hasAnyGroup(session.claims.groups, ["admin"]);
}

function refreshAccounts(queryClient: ReturnType<typeof useQueryClient>) {
  for (const path of ["/v1/accounts", "/v1/accounts/{account_id}", "/v1/accounts/{account_id}/positions", "/v1/risk/kill-switch"]) {
    void queryClient.invalidateQueries({ queryKey: ["get", path] });
  }
}

function LimitsPanel({ account }: { account: AccountView }) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const admin = useIsAdmin();
  const [form, setForm] = useState(() => limitsToForm(account.limits));
  const [problems, setProblems] = useState<string[]>([]);
  const save = $api.useMutation("put", "/v1/accounts/{account_id}/limits");
  const keys = Object.keys(account.limits);

  function submit(event: FormEvent) {
    event.preventDefault();
    const { changes, problems: found } = limitsChanges(account.limits, form);
    setProblems(found.length ? found : Object.keys(changes).length ? [] : ["Nothing changed"]);
    if (found.length === 0 && Object.keys(changes).length > 0) {
      save.mutate(
        { params: { path: { account_id: account.id } }, body: changes },
        {
          onSuccess: (updated) => setForm(limitsToForm(updated.limits)),
          onSettled: () => refreshAccounts(queryClient),
        },
      );
    }
  }

  return (
    <Panel title="Risk limits" actions={admin ? <Badge tone="info">admin: editable</Badge> : <Badge>read-only</Badge>}>
      <form onSubmit={submit} noValidate className="limits-form" data-testid="limits-form">
        <table className="table">
          <tbody>
            {keys.map((key) => {
              const [label, hint] = LIMIT_LABELS[key] ?? [key, ""];
              return (
                <tr key={key}>
                  <td title={hint}>
                    <span className="param-name">{label}</span>
                    <span className="param-bounds">{hint}</span>
                  </td>
                  <td className="num">
                    {admin ? (
                      <input aria-label={label} value={form[key] ?? ""} onChange={(e) => setForm({ ...form, [key]: e.target.value })} />
                    ) : (
                      <span className="mono" data-testid={`limit-${key}`}>
                        {form[key] || "—"}
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {problems.length > 0 && (
          <ul className="form-problems">
            {problems.map((item) => (
              <li key={item}>{item}</li>
            ))}
          </ul>
        )}
        {save.isError && <ErrorBox title="The limits were refused" error={save.error} />}
        {save.isSuccess && <p className="muted small" data-testid="limits-saved">Saved.</p>}
        {admin && (
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={save.isPending}>
              {save.isPending ? "Saving…" : "Save limits"}
            </button>
          </div>
        )}
      </form>
    </Panel>
  );
}

function KillSwitchPanel({ account }: { account: AccountView }) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const admin = useIsAdmin();
  const [reason, setReason] = useState("manual");
  const operate = $api.useMutation("post", "/v1/accounts/{account_id}/kill-switch");
  const global = $api.useQuery("get", "/v1/risk/kill-switch", {}, { staleTime: 0 });
  const operateGlobal = $api.useMutation("post", "/v1/risk/kill-switch");
  const engaged = killState(account.kill_switch);
  const globalState = global.data as { engaged?: boolean; state?: { reason?: string; by?: string; at?: string } | null } | undefined;
  const send = (engage: boolean) =>
    operate.mutate(
      { params: { path: { account_id: account.id } }, body: { engaged: engage, reason: reason || "manual" } },
      { onSettled: () => refreshAccounts(queryClient) },
    );
  return (
    <Panel title="Kill switch" actions={<KillBadges account={account} />}>
      {engaged ? (
        <p data-testid="kill-detail">
          Engaged by <strong>{engaged.by}</strong> at {formatUtc(engaged.at)}: {engaged.reason}. Open orders were canceled; new ones are
          blocked until an admin resets it.
        </p>
      ) : (
        <p className="muted">Engaging cancels every open order of the account and blocks new ones until an admin resets it.</p>
      )}
      <RequireGroup groups={TRADING_GROUPS}>
        <div className="kill-controls">
          <input aria-label="Kill switch reason" value={reason} onChange={(event) => setReason(event.target.value)} />
          {!engaged && (
            <button type="button" className="btn btn-danger" disabled={operate.isPending} onClick={() => send(true)}>
              Engage kill switch
            </button>
          )}
          {engaged && admin && (
            <button type="button" className="btn" disabled={operate.isPending} onClick={() => send(false)}>
              Reset kill switch
            </button>
          )}
          {engaged && !admin && <span className="muted small">Only an admin resets it.</span>}
        </div>
      </RequireGroup>
      {operate.isError && <ErrorBox title="The kill switch was not changed" error={operate.error} />}
      <h3 className="subhead">Global kill switch</h3>
      {global.isError && <ErrorBox title="Global kill switch unavailable" error={global.error} />}
      {globalState && (
        <p data-testid="global-kill">
          {globalState.engaged ? (
            <>
              <Badge tone="bad">engaged</Badge> by {globalState.state?.by} at {formatUtc(globalState.state?.at)}: {globalState.state?.reason}
            </>
          ) : (
            <Badge tone="good">off</Badge>
          )}
        </p>
      )}
      {admin && globalState && (
        <button
          type="button"
          className={globalState.engaged ? "btn" : "btn btn-danger"}
          disabled={operateGlobal.isPending}
          onClick={() =>
            operateGlobal.mutate(
              { body: { engaged: !globalState.engaged, reason: reason || "manual" } },
              { onSettled: () => refreshAccounts(queryClient) },
            )
          }
        >
          {globalState.engaged ? "Reset global kill switch" : "Engage global kill switch"}
        </button>
      )}
      {operateGlobal.isError && <ErrorBox title="The global kill switch was not changed" error={operateGlobal.error} />}
    </Panel>
  );
}

function ExposurePanel({ account }: { account: AccountView }) {
  const positions = usePositions(account.id);
  const rows = positions.report?.positions ?? [];
  const limits = account.limits as Record<string, string>;
  const values = rows.map((row) => Number(row.market_value ?? 0));
  const gross = values.reduce((sum, value) => sum + Math.abs(value), 0);
  const net = values.reduce((sum, value) => sum + value, 0);
  const maxGross = Number(limits.max_gross_exposure ?? 0);
  const maxNet = Number(limits.max_net_exposure ?? 0);
  const usage = (value: number, limit: number) => (limit > 0 ? Math.min(1, Math.abs(value) / limit) : 0);
  const scale = Math.max(1, ...values.map(Math.abs));
  return (
    <Panel title="Exposures">
      {positions.isPending && <Loading what="positions" />}
      {positions.isError && <ErrorBox title="Positions unavailable" error={positions.error} />}
      {positions.report && (
        <>
          {[
            ["Gross", gross, maxGross],
            ["Net", net, maxNet],
          ].map(([label, value, limit]) => (
            <div key={label as string} className="usage-row" data-testid={`exposure-${String(label).toLowerCase()}`}>
              <span className="usage-label">{label}</span>
              <div className="progress">
                <div
                  className={usage(value as number, limit as number) > 0.8 ? "progress-fill warn" : "progress-fill"}
                  style={{ width: `${100 * usage(value as number, limit as number)}%` }}
                />
              </div>
              <span className="mono small">
                {formatMoney(value)} / {formatMoney(limit)}
              </span>
            </div>
          ))}
          <h3 className="subhead">By symbol (market value)</h3>
          {rows.length === 0 && <p className="muted">No positions.</p>}
          {rows.map((row) => {
            const value = Number(row.market_value ?? 0);
            return (
              <div key={row.symbol} className="bar-row">
                <span className="bar-label">{row.symbol}</span>
                <div className="bar-track">
                  <div className={value >= 0 ? "bar-fill" : "bar-fill negative"} style={{ width: `${(50 * Math.abs(value)) / scale}%` }} />
                </div>
                <span className="mono small">{formatMoney(row.market_value)}</span>
              </div>
            );
          })}
        </>
      )}
    </Panel>
  );
}

function RejectionsPanel({ account }: { account: AccountView }) {
  const compliance = useCompliance(account.id);
  const report = compliance.report;
  const recent = [...(report?.rejections ?? [])].sort((a, b) => b.at.localeCompare(a.at)).slice(0, 5);
  return (
    <Panel title="Recent rejections" className="panel-wide">
      {compliance.isPending && <Loading what="the compliance report" />}
      {compliance.isError && <ErrorBox title="Compliance report unavailable" error={compliance.error} />}
      {report && (
        <>
          <p className="small">
            {Object.entries(report.rejections_by_rule).map(([rule, count]) => (
              <Badge key={rule} tone="bad">
                {rule}: {count}
              </Badge>
            ))}
            {Object.keys(report.rejections_by_rule).length === 0 && <span className="muted">No rejections.</span>}
          </p>
          {recent.map((row) => (
            <div key={row.order_id} className="rejection-item" data-testid="rejection-item">
              <p className="small">
                {formatUtc(row.at)} · <strong>{row.symbol}</strong> · order <code>{row.order_id.slice(0, 12)}</code>
              </p>
              <RejectionTable violations={violationsOf({ rejection: row.violations })} />
            </div>
          ))}
        </>
      )}
    </Panel>
  );
}

function OpenAccountById({ state }: { state: ReturnType<typeof useAccount> }) {
  const [id, setId] = useState("");
  return (
    <form
      className="inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (id.trim()) {
          state.choose(id.trim());
        }
      }}
    >
      <input aria-label="Account id" placeholder="account id" value={id} onChange={(event) => setId(event.target.value)} />
      <button type="submit" className="btn btn-small">
        Open account
      </button>
      {state.opened?.isError && <span className="down small">{String((state.opened.error as Error).message)}</span>}
    </form>
  );
}

export default function RiskPage() {
  const state = useAccount();
  const admin = useIsAdmin();
  const account = state.account;
  return (
    <div className="risk">
      <div className="page-heading">
        <h1>Risk</h1>
        <AccountPicker state={state} />
        {admin && <OpenAccountById state={state} />}
      </div>
      {!account ? (
        <NoAccount state={state} title="Risk" />
      ) : (
        <div className="risk-grid">
          <LimitsPanel key={account.id} account={account} />
          <div className="risk-side">
            <KillSwitchPanel account={account} />
            <ExposurePanel account={account} />
          </div>
          <RejectionsPanel account={account} />
        </div>
      )}
    </div>
  );
}
