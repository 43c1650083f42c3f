import { describe, expect, it } from "vitest";

import { channelList, emailProblem, formFromView, newestFirst, planPreferences, testOutcome, webhookProblem, type Delivery } from "./prefs";

function delivery(event: string, at: string, status = "delivered", kind = "test"): Delivery {
  return { event, kind, title: "t", status, detail: status === "failed" ? "failed: URLError: refused" : "delivered (HTTP 200)", at };
}

describe("preferences form", () => {
  it("round-trips what the API has, one channel a line", () => {
    // Given saved preferences
    const view = { webhooks: ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"], emails: [], kinds: ["kill_switch" as const], muted: false, updated_at: "x" };
    // When shown and saved unchanged / Then the same request goes back
    const form = formFromView(view);
    expect(form.webhooks).toBe("http://127.0.0.1:9/a\nhttp://127.0.0.1:9/b");
    expect(planPreferences(form)).toEqual({
      request: { webhooks: ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"], emails: [], kinds: ["kill_switch"], muted: false },
      problems: [],
    });
  });

  it("sends the kinds in the listed order, once each, and drops blank lines and repeats", () => {
    const plan = planPreferences({ kinds: ["alarm", "order_filled", "alarm"], webhooks: "\n https://h.example/x \n\nhttps://h.example/x", emails: "", muted: true });
    expect(plan.request).toEqual({ webhooks: ["https://h.example/x"], emails: [], kinds: ["order_filled", "alarm"], muted: true });
    expect(channelList("a, b\nb")).toEqual(["a", "b"]);
  });

  it("refuses what the API refuses anywhere, naming the entry", () => {
    // Given a non-http webhook, a bad email and six webhooks
    const six = Array.from({ length: 6 }, (_, i) => `https://h.example/${i}`).join("\n");
    expect(planPreferences({ kinds: [], webhooks: "ftp://h.example/x", emails: "me@localhost", muted: false }).problems).toEqual([
      "webhooks[0] 'ftp://h.example/x' must be an http(s) URL with a host",
      "emails[0] 'me@localhost' is not an email address",
    ]);
    expect(planPreferences({ kinds: [], webhooks: six, emails: "", muted: false }).problems).toEqual(["at most 5 webhooks, got 6"]);
    expect(webhookProblem("not a url")).toBe("is not a valid URL");
    expect(webhookProblem("http://127.0.0.1:8080/hook")).toBeNull();
    expect(emailProblem("a b@x.io")).toBe("is not an email address");
    expect(emailProblem("ops@desk.example")).toBeNull();
  });
});

describe("delivery log", () => {
  it("lists deliveries newest first (the API orders them by event id)", () => {
    const log = [delivery("z-old#0", "2026-01-01T00:00:00Z"), delivery("a-new#0", "2026-01-02T00:00:00Z"), delivery("b-new#0", "2026-01-02T00:00:00Z")];
    expect(newestFirst(log).map((item) => item.event)).toEqual(["a-new#0", "b-new#0", "z-old#0"]);
  });

  it("summarises the latest test message over its channels", () => {
    // Given an earlier test, and the latest one sent to two channels of which one failed
    const log = [
      delivery("test:u:2026-01-01T00:00:00Z#0", "2026-01-01T00:00:00Z"),
      delivery("test:u:2026-01-02T00:00:00Z#0", "2026-01-02T00:00:00Z"),
      delivery("test:u:2026-01-02T00:00:00Z#1", "2026-01-02T00:00:00Z", "failed"),
      delivery("order-1#0", "2026-01-03T00:00:00Z", "delivered", "order_filled"),
    ];
    // Then the outcome counts the latest test's channels only
    const outcome = testOutcome(log);
    expect(outcome?.sent).toBe(2);
    expect(outcome?.delivered).toBe(1);
    expect(outcome?.failed.map((item) => item.detail)).toEqual(["failed: URLError: refused"]);
    expect(testOutcome([delivery("order-1#0", "x", "delivered", "order_filled")])).toBeNull();
  });
});
