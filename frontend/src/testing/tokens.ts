/** Test helper: an unsigned JWT with the given payload (the UI never verifies signatures; the API does). */
export function tokenWith(payload: Record<string, unknown>): string {
  const encode = (value: object) => {
    const bytes = new TextEncoder().encode(JSON.stringify(value));
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  return `${encode({ alg: "RS256", kid: "k" })}.${encode(payload)}.signature`;
}
