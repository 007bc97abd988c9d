/**
 * CSV writing per RFC 4180 (CRLF line ends; a cell with a comma, quote, CR or LF is quoted and
 * its quotes doubled), with formula-injection neutralisation for cells opened in spreadsheets.
 */

// A spreadsheet treats a cell starting with one of these as a formula (or as part of one).
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** A cell value: null and undefined are written as an empty cell. */
export type CsvValue = string | number | boolean | null | undefined;

/**
 * One cell, ready to join with commas. A value that begins with `=`, `+`, `-`, `@`, a tab or a
 * carriage return gets a leading `'` so that a spreadsheet shows it instead of running it.
 */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record, terminated by CRLF. */
export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
