import { useApi } from "../auth/AuthContext";

export interface PositionRow {
  symbol: string;
  quantity: string;
  average_cost: string | null;
  cost_basis: string;
  price: string | null;
  market_value: string | null;
  unrealized: string | null;
  realized: string;
  fees: string;
  lots: number;
}

export interface AccountSummary {
  cash: string;
  market_value: string;
  equity: string;
  starting_cash: string;
  realized: string;
  unrealized: string;
  pnl_today: string | null;
  gross_exposure: string;
  kill_switch: unknown;
  global_kill_switch: unknown;
}

export interface PositionsReport {
  account_id: string;
  summary: AccountSummary;
  positions: PositionRow[];
}

/** GET .../positions (a free-form object in the OpenAPI document: its shape is services/ledger_reports.py's). */
export function usePositions(accountId: string | null) {
  const { $api } = useApi();
  const query = $api.useQuery(
    "get",
    "/v1/accounts/{account_id}/positions",
    { params: { path: { account_id: accountId ?? "" } } },
    { enabled: accountId !== null, refetchInterval: 10_000, staleTime: 0 },
  );
  return { ...query, report: query.data as unknown as PositionsReport | undefined };
}
