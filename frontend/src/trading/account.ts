import { useState } from "react";

import type { components } from "../api/schema";
import { useApi, useAuth } from "../auth/AuthContext";

export type AccountView = components["schemas"]["AccountView"];


/** The caller's trading accounts and the one chosen (remembered in sessionStorage; the first by default). */
export function useAccount() {
  const { $api } = useApi();
  const { session } = useAuth();
  // Per user: the next user signing in on this tab starts from their own accounts.
  const storageKey = `trade2026.accountId.${session?.claims.username ?? ""}`;
  const accounts = $api.useQuery("get", "/v1/accounts", {}, { staleTime: 60_000 });
  const [chosen, setChosen] = useState<string | null>(() => sessionStorage.getItem(storageKey));
  const list = accounts.data ?? [];
  // Admins may open any account by its id (the API lets them): fetched when it is not one of their own.
  const other = chosen !== null && accounts.data !== undefined && !list.some((item) => item.id === chosen);
  const opened = $api.useQuery(
    "get",
    "/v1/accounts/{account_id}",
    { params: { path: { account_id: chosen ?? "" } } },
    { enabled: other, retry: false },
  );
  const account = list.find((item) => item.id === chosen) ?? (other ? opened.data : undefined) ?? list[0] ?? null;
  const choose = (id: string) => {
    sessionStorage.setItem(storageKey, id);
    setChosen(id);
  };
  return { accounts, list, account, choose, opened: other ? opened : null };
}

/** Money as the API sends it (exact decimal strings), shown with two decimals. */
const money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const quantity = new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 });

export function formatMoney(value: unknown): string {
  if (value === null || value === undefined || value === "") {
    return "—";
  }
  const number = Number(value);
  return Number.isFinite(number) ? money.format(number) : String(value);
}

export function formatQuantity(value: unknown): string {
  if (value === null || value === undefined || value === "") {
    return "—";
  }
  const number = Number(value);
  return Number.isFinite(number) ? quantity.format(number) : String(value);
}

/** "up" / "down" / "" for coloring a signed amount. */
export function signClass(value: unknown): string {
  const number = Number(value);
  if (value === null || value === undefined || !Number.isFinite(number) || number === 0) {
    return "";
  }
  return number > 0 ? "up" : "down";
}

export interface KillState {
  reason?: string;
  at?: string;
  by?: string;
}

export function killState(value: unknown): KillState | null {
  return value && typeof value === "object" ? (value as KillState) : null;
}
