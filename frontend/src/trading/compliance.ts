import { useApi } from "../auth/AuthContext";

/** GET .../reports/compliance (free-form in the OpenAPI document: shaped by services/ledger_reports.py). */
export interface ComplianceReport {
  rejections: { order_id: string; at: string; symbol: string; violations: unknown[] | null }[];
  rejections_by_rule: Record<string, number>;
  kill_switch_events: { at: string; engaged?: boolean; reason?: string; by?: string }[];
  restricted_list_hits: unknown[];
}

export function useCompliance(accountId: string, start: string | null = null) {
  const { $api } = useApi();
  const query = $api.useQuery(
    "get",
    "/v1/accounts/{account_id}/reports/compliance",
    { params: { path: { account_id: accountId }, query: start ? { start } : {} } },
    { staleTime: 0 },
  );
  return { ...query, report: query.data as unknown as ComplianceReport | undefined };
}

