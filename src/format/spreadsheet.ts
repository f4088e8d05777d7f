/**
 * Text cells that are safe to open in a spreadsheet (Excel, WPS, LibreOffice). A cell whose text begins
 * with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula when the file is opened or
 * edited (CSV injection, OWASP): `=HYPERLINK(...)`, `-2+3`, `@SUM(A1)`. Every CSV and XLSX the project
 * writes passes its text cells through {@link safeCell}; where the exact text matters (a district's value
 * in rejects.csv and warnings.csv) a neighbouring column holds it as {@link exactText}, which never
 * begins with such a character, and the DuckDB file keeps it raw.
 */

/**
 * First characters that make a spreadsheet read a cell as a formula: the OWASP list (`=`, `+`, `-`, `@`,
 * tab, carriage return) and their full-width forms (`＝＋－＠`), which Excel with a Chinese input method
 * also takes as the start of a formula.
 */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * Whether a spreadsheet would read `text` as a formula (its first character is one of `= + - @`, a tab,
 * a carriage return, or a full-width `＝＋－＠`). Negative numbers count: a district's `-5` is text, and
 * `-2+3` would run.
 *
 * @param text - a cell's text
 * @returns true if the text needs {@link safeCell} before it goes into a CSV or XLSX cell
 * @example
 * ```ts
 * isFormulaLike("=HYPERLINK(\"http://x\",\"y\")"); // → true
 * isFormulaLike("-5"); // → true
 * isFormulaLike("兴庆区"); // → false
 * ```
 */
export function isFormulaLike(text: string): boolean {
  return FORMULA_START.test(text);
}

/**
 * A text cell made safe to open in a spreadsheet: text a spreadsheet would read as a formula (see
 * {@link isFormulaLike}) gets a leading single quote `'`, so it is shown as text; any other text is
 * returned as it is. The original is the text after the quote. Use it for every text cell of a CSV or
 * XLSX the project writes (numbers and dates written as such are not text and need nothing).
 *
 * @param text - the cell's text
 * @returns the text, with a leading `'` if it would be read as a formula
 * @example
 * ```ts
 * safeCell("=1+1"); // → "'=1+1"
 * safeCell("-2+3"); // → "'-2+3"
 * safeCell("银川市"); // → "银川市"
 * ```
 */
export function safeCell(text: string): string {
  return isFormulaLike(text) ? `'${text}` : text;
}

/** Characters shown as `\uXXXX` by {@link exactText}: controls, invisible format characters, line separators. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * The exact text, written so that nothing in it is lost or hidden and a spreadsheet shows it as text: a
 * JSON string literal (in double quotes, so it never begins with a formula character), with control
 * characters, invisible format characters (zero-width spaces, bidirectional marks, a BOM) and line
 * separators written as `\uXXXX` (or `\t`, `\r`, `\n`). `JSON.parse` gives back the original text.
 *
 * @param text - the text as received
 * @returns the text as a JSON string literal, every invisible character escaped
 * @example
 * ```ts
 * exactText("-5"); // → "\"-5\""
 * exactText("\t=1"); // → "\"\\t=1\""
 * exactText("银川\u200B市"); // → "\"银川\\u200b市\""
 * JSON.parse(exactText("=SUM(A1)")); // → "=SUM(A1)"
 * ```
 */
export function exactText(text: string): string {
  return JSON.stringify(text).replace(INVISIBLE, (char) =>
    Array.from(
      {length: char.length},
      (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`
    ).join("")
  );
}
