import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { useApi, useAuth } from "../auth/AuthContext";
import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { formatUtc } from "../ui/format";
import {
  formFromView,
  KINDS,
  MAX_CHANNELS,
  newestFirst,
  planPreferences,
  statusTone,
  testOutcome,
  type Delivery,
  type PreferencesForm,
  type PreferencesView,
} from "./prefs";

const DELIVERIES = ["get", "/v1/notifications"] as const;

function PreferencesEditor({ saved }: { saved: PreferencesView }) {
  const { $api } = useApi();
  const { session } = useAuth();
  const queryClient = useQueryClient();
  const [form, setForm] = useState<PreferencesForm>(() => formFromView(saved));
  const [problems, setProblems] = useState<string[]>([]);
  const save = $api.useMutation("put", "/v1/notifications/preferences");
  const isAdmin = session?.claims.groups.includes("admin") ?? false;
  function submit(event: FormEvent) {
    event.preventDefault();
    const plan = planPreferences(form);
    setProblems(plan.problems);
    if (!plan.request) return;
    save.mutate(
      { body: plan.request },
      {
        onSuccess: (view) => {
          setForm(formFromView(view));
          void queryClient.invalidateQueries({ queryKey: ["get", "/v1/notifications/preferences"] });
        },
      },
    );
  }
  const toggle = (kind: PreferencesForm["kinds"][number], on: boolean) =>
    setForm({ ...form, kinds: on ? [...form.kinds, kind] : form.kinds.filter((item) => item !== kind) });
  const current = save.data ?? saved;
  return (
    <Panel
      title="Preferences"
      actions={
        current.updated_at ? (
          <span className="muted small" data-testid="prefs-updated">
            saved {formatUtc(current.updated_at)}
          </span>
        ) : (
          <Badge tone="warn">not set</Badge>
        )
      }
    >
      <form className="backtest-form prefs-form" onSubmit={submit} noValidate data-testid="prefs-form">
        {!current.updated_at && (
          <p className="muted small" data-testid="prefs-empty">
            You have not set preferences yet: nothing is sent to you. Choose what to hear about and where.
          </p>
        )}
        <fieldset className="kinds">
          <legend className="field-label">Notify me about</legend>
          {KINDS.map((info) => (
            <label key={info.kind} className="kind-option">
              <input type="checkbox" checked={form.kinds.includes(info.kind)} onChange={(e) => toggle(info.kind, e.target.checked)} />
              <span>
                <strong>{info.label}</strong>
                <span className="muted small">
                  {" "}
                  {info.description}
                  {info.adminsOnly && (isAdmin ? " (admins)" : " (sent to admins only)")}
                </span>
              </span>
            </label>
          ))}
        </fieldset>
        <label className="field field-wide">
          <span className="field-label">Webhook URLs (one a line, at most {MAX_CHANNELS})</span>
          <textarea
            aria-label="Webhook URLs"
            rows={2}
            placeholder="https://hooks.example.com/trade2026"
            value={form.webhooks}
            onChange={(e) => setForm({ ...form, webhooks: e.target.value })}
          />
        </label>
        <label className="field field-wide">
          <span className="field-label">Emails (one a line, at most {MAX_CHANNELS})</span>
          <textarea aria-label="Emails" rows={2} placeholder="you@example.com" value={form.emails} onChange={(e) => setForm({ ...form, emails: e.target.value })} />
        </label>
        <label className="kind-option">
          <input type="checkbox" checked={form.muted} onChange={(e) => setForm({ ...form, muted: e.target.checked })} />
          <span>
            <strong>Mute</strong> <span className="muted small">keep the settings, send nothing</span>
          </span>
        </label>
        {problems.length > 0 && (
          <ul className="form-problems" data-testid="prefs-problems">
            {problems.map((item) => (
              <li key={item}>{item}</li>
            ))}
          </ul>
        )}
        {save.isError && (
          <div data-testid="prefs-error">
            <ErrorBox title="The preferences were refused" error={save.error} />
          </div>
        )}
        {save.isSuccess && (
          <p className="small up" data-testid="prefs-saved" role="status">
            Saved: {current.kinds?.length ?? 0} kinds, {(current.webhooks?.length ?? 0) + (current.emails?.length ?? 0)} channels
            {current.muted ? " (muted)" : ""}.
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save preferences"}
          </button>
        </div>
      </form>
    </Panel>
  );
}

function DeliveriesPanel({ channels }: { channels: number }) {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const query = $api.useQuery("get", "/v1/notifications", { params: { query: { limit: 50 } } }, { staleTime: 0, refetchInterval: 30_000 });
  const test = $api.useMutation("post", "/v1/notifications/test");
  const deliveries = newestFirst((query.data?.deliveries ?? []) as Delivery[]);
  const outcome = test.data ? testOutcome(test.data.deliveries) : null;
  return (
    <Panel
      title="Recent deliveries"
      actions={
        <>
          <button
            type="button"
            className="btn btn-small"
            disabled={test.isPending}
            title={channels ? `Send a test message to your ${channels} channel(s)` : "Add a webhook or an email first"}
            onClick={() => test.mutate({}, { onSettled: () => void queryClient.invalidateQueries({ queryKey: DELIVERIES }) })}
          >
            {test.isPending ? "Sending…" : "Send test notification"}
          </button>
          <button type="button" className="btn btn-small" onClick={() => void query.refetch()} disabled={query.isFetching}>
            Refresh
          </button>
        </>
      }
    >
      {test.isError && <ErrorBox title="The test was refused" error={test.error} />}
      {test.isSuccess && (
        <p className="small" data-testid="test-outcome" role="status">
          {outcome === null || outcome.sent === 0
            ? "Nothing was sent: save a webhook or an email first."
            : `Test sent to ${outcome.sent} channel(s): ${outcome.delivered} delivered${outcome.failed.length ? `, ${outcome.failed.length} failed (${outcome.failed[0]?.detail})` : ""}.`}
        </p>
      )}
      {query.isPending && <Loading what="the deliveries" />}
      {query.isError && <ErrorBox title="Deliveries unavailable" error={query.error} onRetry={() => void query.refetch()} />}
      {query.data && deliveries.length === 0 && (
        <p className="muted" data-testid="deliveries-empty">
          Nothing delivered yet. Deliveries are kept for a while after they are sent.
        </p>
      )}
      {deliveries.length > 0 && (
        <div className="table-scroll">
          <table className="table" data-testid="deliveries">
            <thead>
              <tr>
                <th>At</th>
                <th>Kind</th>
                <th>Title</th>
                <th>Status</th>
                <th>Detail</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((delivery) => (
                <tr key={delivery.event} data-testid="delivery-row" data-kind={delivery.kind} data-status={delivery.status}>
                  <td className="nowrap">{formatUtc(delivery.at)}</td>
                  <td className="mono">{delivery.kind}</td>
                  <td>{delivery.title}</td>
                  <td>
                    <Badge tone={statusTone(delivery.status)}>{delivery.status}</Badge>
                  </td>
                  <td className="small wrap">{delivery.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

/** The caller's notification settings (events, webhooks, emails), a test message and the delivery log. */
export default function NotificationsPage() {
  const { $api } = useApi();
  const prefs = $api.useQuery("get", "/v1/notifications/preferences", {}, { staleTime: 0 });
  const saved = prefs.data;
  return (
    <div className="analytics-page">
      <div className="page-heading">
        <h1>Notifications</h1>
      </div>
      <div className="analytics notifications">
        <div className="models-side">
          {prefs.isPending && <Loading what="your preferences" />}
          {prefs.isError && <ErrorBox title="Preferences unavailable" error={prefs.error} onRetry={() => void prefs.refetch()} />}
          {saved && <PreferencesEditor saved={saved} />}
        </div>
        <div className="analytics-main">
          <DeliveriesPanel channels={(saved?.webhooks?.length ?? 0) + (saved?.emails?.length ?? 0)} />
        </div>
      </div>
    </div>
  );
}
