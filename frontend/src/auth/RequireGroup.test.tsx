import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { parseConfig } from "../config";
import { tokenWith } from "../testing/tokens";
import { AuthContext, type AuthContextValue } from "./AuthContext";
import { decodeIdToken } from "./jwt";
import { RequireGroup, TRADING_GROUPS } from "./RequireGroup";

function renderAs(groups: string[] | null) {
  const idToken = tokenWith({ sub: "s", "cognito:groups": groups ?? [], exp: 4_000_000_000 });
  const value: AuthContextValue = {
    config: parseConfig({ apiUrl: "http://h", region: "r", userPoolId: "p", userPoolClientId: "c", stage: "dev" }),
    session: groups === null ? null : { idToken, claims: decodeIdToken(idToken) },
    notice: null,
    signIn: async () => ({ done: true }),
    setNewPassword: async () => ({ done: true }),
    signOut: () => {},
  };
  return renderToStaticMarkup(
    <AuthContext.Provider value={value}>
      <RequireGroup groups={TRADING_GROUPS} fallback={<i>read-only</i>}>
        <b>place order</b>
      </RequireGroup>
    </AuthContext.Provider>,
  );
}

describe("RequireGroup", () => {
  it("shows trading actions to traders and admins", () => {
    expect(renderAs(["trader"])).toBe("<b>place order</b>");
    expect(renderAs(["viewer", "admin"])).toBe("<b>place order</b>");
  });

  it("shows the fallback to viewers and to signed-out users", () => {
    expect(renderAs(["viewer"])).toBe("<i>read-only</i>");
    expect(renderAs(null)).toBe("<i>read-only</i>");
  });
});
