/** The public settings the gateway (locally) or the deployment (AWS) serves at /config.json. */
export interface PublicConfig {
  apiUrl: string;
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  cognitoEndpoint?: string | null;
  stage: string;
  local: boolean;
}

const REQUIRED_STRINGS = ["apiUrl", "region", "userPoolId", "userPoolClientId", "stage"] as const;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Validates the JSON of /config.json; a missing field is a deployment error worth saying plainly. */
export function parseConfig(value: unknown): PublicConfig {
  if (typeof value !== "object" || value === null) {
    throw new ConfigError("/config.json is not a JSON object");
  }
  const record = value as Record<string, unknown>;
  const missing = REQUIRED_STRINGS.filter((key) => typeof record[key] !== "string" || record[key] === "");
  if (missing.length > 0) {
    throw new ConfigError(`/config.json lacks ${missing.join(", ")}`);
  }
  return {
    apiUrl: record.apiUrl as string,
    region: record.region as string,
    userPoolId: record.userPoolId as string,
    userPoolClientId: record.userPoolClientId as string,
    cognitoEndpoint: typeof record.cognitoEndpoint === "string" ? record.cognitoEndpoint : null,
    stage: record.stage as string,
    local: record.local === true,
  };
}

export async function loadConfig(fetchFn: typeof fetch = fetch): Promise<PublicConfig> {
  const response = await fetchFn("/config.json", { cache: "no-store" });
  if (!response.ok) {
    throw new ConfigError(`GET /config.json answered ${response.status}: is the UI served by the gateway?`);
  }
  return parseConfig(await response.json());
}

/**
 * Where API calls go. The dev server proxies /v1 to the gateway, so it uses its own origin; a built UI
 * uses config.apiUrl (the gateway's origin locally, the execute-api or custom domain URL on AWS).
 */
export function apiBaseUrl(config: PublicConfig, devServerOrigin: string | null): string {
  return (devServerOrigin ?? config.apiUrl).replace(/\/+$/, "");
}

/** Cognito's JSON API endpoint: moto's server locally, the regional endpoint on AWS. */
export function cognitoEndpoint(config: PublicConfig): string {
  if (config.local && config.cognitoEndpoint) {
    return config.cognitoEndpoint.replace(/\/+$/, "") + "/";
  }
  return `https://cognito-idp.${config.region}.amazonaws.com/`;
}
