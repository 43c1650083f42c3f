/** Display formats shared by the pages (numbers right-aligned in tabular figures by the CSS). */

const priceFormat = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 4 });
const integerFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function formatPrice(value: number | null | undefined): string {
  return value === null || value === undefined || Number.isNaN(value) ? "—" : priceFormat.format(value);
}

export function formatInteger(value: number | null | undefined): string {
  return value === null || value === undefined || Number.isNaN(value) ? "—" : integerFormat.format(value);
}

/** "2018-12-31 21:00:00 UTC" (or the date alone at midnight UTC, as daily bars are stamped). */
export function formatUtc(iso: string | null | undefined): string {
  if (!iso) {
    return "—";
  }
  const time = Date.parse(iso);
  if (Number.isNaN(time)) {
    return iso;
  }
  const text = new Date(time).toISOString();
  return text.endsWith("T00:00:00.000Z") ? text.slice(0, 10) : `${text.slice(0, 10)} ${text.slice(11, 19)} UTC`;
}
