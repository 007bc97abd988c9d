/** CSV writing shared by every download: RFC 4180 quoting and spreadsheet formula neutralisation. */

const FORMULA_START = /^[=+\-@\t\r]/;
// `;` too: a spreadsheet set to `;`-separated files (most of Europe) splits `Bob;=1+1` into a
// second cell that starts a formula, past the guard of the first.
const NEEDS_QUOTES = /[",;\r\n]/;

/**
 * One CSV cell. A value starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
 * leading `'` so that spreadsheets show it instead of running it (CONTRACT §4), and a value holding
 * `;` is quoted, so that a `;`-separated spreadsheet keeps it one cell.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && FORMULA_START.test(s)) s = `'${s}`;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line, with its CRLF end. */
export const csvLine = (cells: Array<string | number | boolean | null | undefined>): string => `${cells.map(csvCell).join(',')}\r\n`;
