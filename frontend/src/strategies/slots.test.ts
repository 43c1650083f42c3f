import { describe, expect, it } from "vitest";

import {
  barStart,
  emptyDeployForm,
  pairDecisions,
  parseStrategyRef,
  planDeploy,
  planText,
  refLabel,
  refOf,
  stateNote,
  DEPLOYABLE,
  SHADOWABLE,
  type Decision,
  type SlotView,
} from "./slots";

const SLOT: SlotView = {
  account_id: "acc", slot: "main", symbol: "SP500", strategy: "0123456789ab@1", strategy_id: "0123456789ab", version: 1,
  capital: "100000", revision: 3, status: "active", previous: null, shadow: null, error: null,
  deployed_at: "2026-01-05T00:00:00Z", deployed_by: "demo-trader",
};

function decision(bar: string, mode: string, strategy = "0123456789ab@1"): Decision {
  return {
    bar_id: bar, mode, symbol: "SP500", strategy, slot_revision: 1, at: "2026-01-05T00:00:00Z", status: mode === "shadow" ? "shadow" : "ordered",
    target: 1, signal: 1, inputs: {}, plan: [], orders: [], error: null, cursor: `${bar}#${mode}`,
  };
}

describe("planDeploy", () => {
  const form = { ...emptyDeployForm, strategyId: "0123456789ab", version: "2", symbol: "sp500", capital: "" };

  it("creates a new slot with its symbol (upper-cased) and no expected revision", () => {
    // Given a slot name no slot has yet / When planned / Then the API's create body
    expect(planDeploy(form, null)).toEqual({
      request: { strategy_id: "0123456789ab", version: 2, symbol: "SP500" },
      problems: [],
      creates: true,
    });
  });

  it("hot-swaps an existing slot at the revision shown, without resending its symbol", () => {
    const plan = planDeploy({ ...form, symbol: "SP500", capital: "250000" }, SLOT);
    expect(plan.request).toEqual({ strategy_id: "0123456789ab", version: 2, capital: "250000", expected_revision: 3 });
    expect(plan.creates).toBe(false);
  });

  it("moves an existing slot to another symbol only when a different one is typed", () => {
    expect(planDeploy({ ...form, symbol: "nasdaq" }, SLOT).request?.symbol).toBe("NASDAQ");
    expect(planDeploy({ ...form, symbol: "" }, SLOT).request).not.toHaveProperty("symbol");
  });

  it("names every problem as the API would", () => {
    // Given a bad name, no strategy, no version, no symbol for a new slot and a capital out of range
    const plan = planDeploy({ slot: "main slot", strategyId: "", version: "", symbol: "", capital: "0" }, null);
    // Then nothing is sent and each problem is listed
    expect(plan.request).toBeNull();
    expect(plan.problems).toEqual([
      "slot name: 1 to 40 letters, digits, - or _",
      "choose a strategy",
      "choose a version",
      "symbol is required to create a slot",
      "capital must be a number above 0 and at most 10,000,000,000, got 0",
    ]);
    expect(planDeploy({ ...form, symbol: "S P" }, null).problems).toEqual(["symbol S P: 1 to 32 letters, digits, ^ . or -"]);
    expect(planDeploy({ ...form, capital: "2e10" }, null).problems).toHaveLength(1);
  });
});

describe("decisions side by side", () => {
  it("pairs the live and the shadow decision of each bar, newest bar first", () => {
    // Given the API's newest-first log: bar 2 live+shadow, bar 1 live only
    const log = [decision("SP500:1d:2", "shadow", "0123456789ab@2"), decision("SP500:1d:2", "live"), decision("SP500:1d:1", "live")];
    // When paired
    const pairs = pairDecisions(log);
    // Then one row per bar, each side in its column
    expect(pairs.map((pair) => [pair.barId, pair.live?.strategy ?? null, pair.shadow?.strategy ?? null])).toEqual([
      ["SP500:1d:2", "0123456789ab@1", "0123456789ab@2"],
      ["SP500:1d:1", "0123456789ab@1", null],
    ]);
  });

  it("keeps the first decision of a side when a page repeats one", () => {
    const first = decision("b", "live");
    const pairs = pairDecisions([first, { ...decision("b", "live"), status: "error" }]);
    expect(pairs).toHaveLength(1);
    expect(pairs[0]?.live).toBe(first);
  });

  it("reads the bar time from the bar id, and says what a plan would order", () => {
    expect(barStart("SP500:1d:1546214400000000000")).toBe("2018-12-31T00:00:00.000Z");
    expect(barStart("custom-id")).toBeNull();
    expect(planText([{ side: "cover", quantity: "5" }, { side: "buy", quantity: "39" }])).toBe("cover 5, buy 39");
    expect(planText([])).toBe("no order");
  });
});

describe("version references", () => {
  it("reads previous/shadow objects and <id>@<v> strings, and labels them by the strategy's name", () => {
    expect(refOf({ strategy_id: "0123456789ab", version: 2 })).toEqual({ strategy_id: "0123456789ab", version: 2 });
    expect(refOf(null)).toBeNull();
    expect(refOf({ strategy_id: "x", version: 0 })).toBeNull();
    expect(parseStrategyRef("0123456789ab@12")).toEqual({ strategy_id: "0123456789ab", version: 12 });
    expect(parseStrategyRef("nope")).toBeNull();
    const names = new Map([["0123456789ab", "MA crossover"]]);
    expect(refLabel({ strategy_id: "0123456789ab", version: 2 }, names)).toBe("MA crossover v2");
    expect(refLabel({ strategy_id: "ffffffffffff", version: 1 }, names)).toBe("ffffffffffff v1");
    expect(refLabel(null, names)).toBe("—");
  });

  it("warns when a version's state is not one a slot or shadow accepts", () => {
    expect(stateNote("paper", DEPLOYABLE, "a slot")).toBeNull();
    expect(stateNote("validated", DEPLOYABLE, "a slot")).toBe("this version is validated: a slot needs one of paper, live (the API will refuse it)");
    expect(stateNote("validated", SHADOWABLE, "a shadow")).toBeNull();
    expect(stateNote(undefined, DEPLOYABLE, "a slot")).toBeNull();
  });
});
