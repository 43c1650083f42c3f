import { describe, expect, it } from "vitest";

import { openRun, viewFromSearch, viewToSearch } from "./view";

const ID = "0123456789abcdef0123456789abcdef";
const OTHER = "fedcba9876543210fedcba9876543210";

describe("page view in the URL", () => {
  it("round-trips the tab and the open runs", () => {
    const view = { tab: "sweep" as const, run: ID, sweep: OTHER };
    expect(viewFromSearch(viewToSearch(view))).toEqual(view);
    expect(viewToSearch({ tab: "backtest", run: ID, sweep: null }).toString()).toBe(`run=${ID}`);
  });

  it("keeps the walk-forward tab and falls back to the backtest tab for an unknown one", () => {
    expect(viewFromSearch(new URLSearchParams("tab=walkforward"))).toEqual({ tab: "walkforward", run: null, sweep: null });
    expect(viewToSearch({ tab: "walkforward", run: null, sweep: null }).toString()).toBe("tab=walkforward");
    expect(viewFromSearch(new URLSearchParams("tab=nope")).tab).toBe("backtest");
  });

  it("ignores malformed ids and opens the sweep tab for a lone sweep link", () => {
    expect(viewFromSearch(new URLSearchParams("run=../etc&sweep=x"))).toEqual({ tab: "backtest", run: null, sweep: null });
    expect(viewFromSearch(new URLSearchParams(`sweep=${OTHER}`)).tab).toBe("sweep");
  });

  it("opens a run from the history in its own tab", () => {
    const start = { tab: "backtest" as const, run: ID, sweep: null };
    expect(openRun(start, { id: OTHER, kind: "sweep" })).toEqual({ tab: "sweep", run: ID, sweep: OTHER });
    expect(openRun({ ...start, tab: "sweep" }, { id: OTHER, kind: "backtest" })).toEqual({ tab: "backtest", run: OTHER, sweep: null });
  });
});
