/** What the Backtests page shows, kept in the URL: /backtests?tab=sweep&sweep=<id> or ?run=<id>. */
import type { RunInfo } from "./types";

export type Tab = "backtest" | "sweep" | "walkforward";

export const TABS: { value: Tab; label: string }[] = [
  { value: "backtest", label: "Backtest" },
  { value: "sweep", label: "Sweep" },
  { value: "walkforward", label: "Walk-forward" },
];

export interface PageView {
  tab: Tab;
  /** The backtest shown (tab "backtest"). */
  run: string | null;
  /** The sweep shown (tab "sweep"). */
  sweep: string | null;
}

const RUN_ID = /^[0-9a-f]{32}$/;

function runId(value: string | null): string | null {
  return value && RUN_ID.test(value) ? value : null;
}

export function viewFromSearch(search: URLSearchParams): PageView {
  const sweep = runId(search.get("sweep"));
  const run = runId(search.get("run"));
  const asked = TABS.find((item) => item.value === search.get("tab"))?.value;
  const tab: Tab = asked ?? (sweep !== null && run === null ? "sweep" : "backtest");
  return { tab, run, sweep };
}

export function viewToSearch(view: PageView): URLSearchParams {
  const search = new URLSearchParams();
  if (view.tab !== "backtest") {
    search.set("tab", view.tab);
  }
  if (view.run) {
    search.set("run", view.run);
  }
  if (view.sweep) {
    search.set("sweep", view.sweep);
  }
  return search;
}

/** The view after the user opens a run from the history list. */
export function openRun(view: PageView, run: Pick<RunInfo, "id" | "kind">): PageView {
  return run.kind === "sweep" ? { ...view, tab: "sweep", sweep: run.id } : { ...view, tab: "backtest", run: run.id };
}
