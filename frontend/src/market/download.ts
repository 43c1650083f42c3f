import type { ApiClient } from "../api/client";
import { ApiError } from "../api/errors";
import { barsQuery, downloadFileName, type DateRange, type Interval } from "./bars";

/**
 * Downloads bars as a file through the API (format=csv|parquet). A plain link cannot carry the
 * Authorization header, so the typed client fetches the file and the browser saves the blob.
 * Returns true when the file is complete, false when the API had more bars than one file holds.
 */
export async function downloadBars(
  client: ApiClient,
  symbol: string,
  interval: Interval,
  range: DateRange,
  format: "csv" | "parquet",
): Promise<boolean> {
  const query = barsQuery(symbol, interval, range, { format });
  const { data, response } = await client.GET("/v1/marketdata/bars", { params: { query }, parseAs: "blob" });
  if (!(data instanceof Blob)) {
    throw new ApiError(0, `The API sent no ${format.toUpperCase()} file`);
  }
  const url = URL.createObjectURL(data);
  try {
    const link = document.createElement("a");
    link.href = url;
    link.download = downloadFileName(query, format);
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // Revoke after the click has been handled, or some browsers cancel the download.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
  return !response.headers.get("X-Next-Token");
}
