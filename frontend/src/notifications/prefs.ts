/**
 * Notification preferences: the form, its checks (the API's own: services/notifications.py PreferencesRequest and
 * save_preferences; which webhook addresses are reachable is the server's call, so that one is left to the API),
 * and the delivery log as shown (newest first).
 */
import type { components } from "../api/schema";

export type PreferencesView = components["schemas"]["PreferencesView"];
export type PreferencesRequest = components["schemas"]["PreferencesRequest"];
export type Kind = NonNullable<PreferencesRequest["kinds"]>[number];
export type Delivery = components["schemas"]["DeliveryView"];

/** At most this many webhooks, and this many emails (MAX_CHANNELS). */
export const MAX_CHANNELS = 5;

export interface KindInfo {
  kind: Kind;
  label: string;
  description: string;
  adminsOnly?: boolean;
}

/** Every kind the API knows, in the order the form lists them. */
export const KINDS: readonly KindInfo[] = [
  { kind: "order_filled", label: "Order filled", description: "fills of your accounts' orders" },
  { kind: "risk_rejection", label: "Risk rejection", description: "your orders refused by pre-trade risk" },
  { kind: "kill_switch", label: "Kill switch", description: "your accounts' kill switch, and the global one" },
  { kind: "sweep_finished", label: "Sweep finished", description: "parameter sweeps done or failed" },
  { kind: "model_promoted", label: "Model promoted", description: "a new champion model" },
  { kind: "strategy_error", label: "Strategy error", description: "a strategy failed and its slot paused" },
  { kind: "alarm", label: "Ops alarm", description: "CloudWatch alarms of the platform", adminsOnly: true },
];

export interface PreferencesForm {
  kinds: Kind[];
  webhooks: string;
  emails: string;
  muted: boolean;
}

/** The form for what the API has (one channel a line). */
export function formFromView(view: PreferencesView): PreferencesForm {
  return {
    kinds: [...(view.kinds ?? [])],
    webhooks: (view.webhooks ?? []).join("\n"),
    emails: (view.emails ?? []).join("\n"),
    muted: view.muted,
  };
}

/** Non-empty lines (or comma separated entries), trimmed, without repeats. */
export function channelList(text: string): string[] {
  return [...new Set(text.split(/[\n,]+/).map((item) => item.trim()).filter(Boolean))];
}

/** Why a webhook URL is refused whatever the deployment (None when the API may still accept it). */
export function webhookProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a valid URL";
  }
  if ((parsed.protocol !== "http:" && parsed.protocol !== "https:") || !parsed.hostname) {
    return "must be an http(s) URL with a host";
  }
  return null;
}

/** The API's email check: something@domain.tld, no spaces, at most 254 characters. */
export function emailProblem(address: string): string | null {
  const at = address.indexOf("@");
  const local = at < 0 ? "" : address.slice(0, at);
  const domain = at < 0 ? "" : address.slice(at + 1);
  const ok = local.length > 0 && domain.includes(".") && !address.includes(" ") && address.length <= 254;
  return ok ? null : "is not an email address";
}

/** The PUT body for the form, or the problems (worded like the API's: `webhooks[0] 'ftp://x': ...`). */
export function planPreferences(form: PreferencesForm): { request: PreferencesRequest | null; problems: string[] } {
  const webhooks = channelList(form.webhooks);
  const emails = channelList(form.emails);
  const problems: string[] = [];
  if (webhooks.length > MAX_CHANNELS) {
    problems.push(`at most ${MAX_CHANNELS} webhooks, got ${webhooks.length}`);
  }
  if (emails.length > MAX_CHANNELS) {
    problems.push(`at most ${MAX_CHANNELS} emails, got ${emails.length}`);
  }
  webhooks.forEach((url, index) => {
    const problem = webhookProblem(url);
    if (problem) problems.push(`webhooks[${index}] '${url}' ${problem}`);
  });
  emails.forEach((address, index) => {
    const problem = emailProblem(address);
    if (problem) problems.push(`emails[${index}] '${address}' ${problem}`);
  });
  if (problems.length) {
    return { request: null, problems };
  }
  const order = KINDS.map((info) => info.kind);
  const kinds = [...new Set(form.kinds)].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return { request: { webhooks, emails, kinds, muted: form.muted }, problems };
}

/** The deliveries newest first (the API lists them by event id; `at` has one-second resolution). */
export function newestFirst(deliveries: readonly Delivery[]): Delivery[] {
  return deliveries
    .map((delivery, index) => ({ delivery, index }))
    .sort((a, b) => (a.delivery.at === b.delivery.at ? a.index - b.index : a.delivery.at < b.delivery.at ? 1 : -1))
    .map((item) => item.delivery);
}

/** The event a delivery belongs to (its log key is "<event id>#<channel index>"). */
export function eventOf(delivery: Delivery): string {
  return delivery.event.replace(/#\d+$/, "");
}

export interface TestOutcome {
  sent: number;
  delivered: number;
  failed: Delivery[];
}

/** What the latest test notification did, from the deliveries POST /v1/notifications/test answers with. */
export function testOutcome(deliveries: readonly Delivery[]): TestOutcome | null {
  const latest = newestFirst(deliveries.filter((item) => item.kind === "test"))[0];
  if (!latest) {
    return null;
  }
  const event = eventOf(latest);
  const mine = deliveries.filter((item) => item.kind === "test" && eventOf(item) === event);
  return {
    sent: mine.length,
    delivered: mine.filter((item) => item.status === "delivered").length,
    failed: mine.filter((item) => item.status === "failed"),
  };
}

export function statusTone(status: string): "good" | "bad" | "warn" | "neutral" {
  return status === "delivered" ? "good" : status === "failed" ? "bad" : status === "skipped" ? "warn" : "neutral";
}
