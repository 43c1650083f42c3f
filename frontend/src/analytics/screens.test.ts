import { describe, expect, it } from "vitest";

import { defaultScreener, describeDefinition, saveBody, screenDefinition, stateFromDefinition } from "./screens";

describe("saved screens", () => {
  const state = {
    ...defaultScreener,
    conditions: [
      { field: "return_20d", op: ">", value: "0.05" },
      { field: "rsi_14", op: "<", value: "70" },
    ],
  };

  it("saves the form as the API's definition with a name", () => {
    // Given the form / When saved as "momentum" / Then the POST /v1/screens body
    expect(saveBody("  momentum ", state, true)).toEqual({
      body: {
        name: "momentum",
        schedule: "daily",
        filter: { all: [{ field: "return_20d", op: ">", value: 0.05 }, { field: "rsi_14", op: "<", value: 70 }] },
        sort: [{ field: "return_20d", order: "desc" }],
        limit: 50,
        symbols: null,
      },
      problems: [],
    });
    expect(saveBody("x", { ...state, sortField: "" }, false).body?.sort).toEqual([]);
  });

  it("refuses an unnamed screen and a bad row count before anything is sent", () => {
    expect(saveBody(" ", { ...state, limit: "0" }, false)).toEqual({
      body: null,
      problems: ["give the screen a name", "rows must be a whole number in [1, 1000], got 0"],
    });
    expect(saveBody("x".repeat(101), state, false).problems).toEqual(["the name has 101 characters; at most 100"]);
  });

  it("loads what it saved back into the same form", () => {
    // Given a saved definition (what the API stores: everything but name and schedule)
    const definition = screenDefinition({ ...state, symbols: ["SP500", "NASDAQ"], limit: "20", order: "asc" }).definition;
    // When loaded / Then the form is as it was
    expect(stateFromDefinition(definition as unknown as Record<string, unknown>)).toEqual({
      state: { ...state, symbols: ["SP500", "NASDAQ"], limit: "20", order: "asc" },
      problem: null,
    });
    expect(stateFromDefinition({ filter: null, sort: [], limit: 50, symbols: null }).state?.conditions).toEqual([]);
    expect(stateFromDefinition({ filter: { field: "price", op: ">", value: 10 }, sort: [] }).state?.conditions).toEqual([{ field: "price", op: ">", value: "10" }]);
  });

  it("explains a screen the form cannot show instead of loading half of it", () => {
    expect(stateFromDefinition({ filter: { any: [{ field: "price", op: ">", value: 1 }] } }).problem).toMatch(/any\/not/);
    expect(stateFromDefinition({ filter: { all: [{ field: "price", op: "between", value: [1, 2] }] } }).problem).toMatch(/between/);
    expect(stateFromDefinition({ filter: null, sort: [{ field: "price" }, { field: "volume" }] }).problem).toBe("it sorts by 2 fields: the form sorts by one");
    expect(describeDefinition({ filter: { not: { field: "price", op: ">", value: 1 } } })).toBe("custom filter (any / not / between)");
    expect(describeDefinition({ filter: { all: [{ field: "price", op: ">", value: 10 }] }, sort: [{ field: "price", order: "desc" }] })).toBe("price > 10 · by price desc");
  });
});
