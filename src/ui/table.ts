/**
 * A sortable table that works with the keyboard (each header is a button; Enter or Space sorts) and
 * carries every figure's raw value in `data-metric` / `data-value` / `data-unit`. Text is always set as
 * text, never parsed as HTML, and shown through displayText (cleaned, cut with the full text on hover).
 */
import {cleanText, compareZh, DISPLAY_WIDTH} from "../format/text.js";
import {setDisplayText} from "./text.js";

export interface TableColumn<T> {
  /** Header text. */
  label: string;
  /** The raw value, used to sort and written to `data-value`. */
  value: (row: T) => string | number | null;
  /** How the cell reads. Default: the value as text, `—` for null. */
  format?: (value: string | number | null, row: T) => string;
  /** `data-metric` name for the cell; with it the row's `key` is written to `data-unit`. */
  metric?: string;
  /** Right-aligned figures. Default: true for numbers. */
  numeric?: boolean;
  /**
   * Makes the cell a link to this address (relative, or absolute on the site: `./640104`, `/recovery`).
   * Anything with a scheme (`javascript:`, `http:`) is refused and the cell stays text.
   */
  href?: (row: T) => string | null;
  /**
   * The widest text a cell shows, in columns (a Chinese character counts 2): longer text is cut with
   * `…` and the whole text goes into the cell's `title` (hover). `false` never cuts (for sentences the
   * page writes itself, such as reasons). Either way the text is cleaned of bidi controls and invisible
   * characters (see displayText). Default 40.
   */
  truncate?: number | false;
  /**
   * The cell's hover text (`title`), e.g. the whole name when `format` shortens it itself. Default:
   * the whole text when the cell's text was cut, else none.
   */
  title?: (row: T) => string | null;
}

/** True for a site-relative address: no scheme, no protocol-relative `//host`. */
function isSiteAddress(href: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(href.trim()) && !/^[\\/]{2}/.test(href.trim());
}

export interface SortableTableOptions<T> {
  columns: readonly TableColumn<T>[];
  /** The row's division code or id, written to `data-unit` of metric cells. */
  key?: (row: T) => string;
  /** Initial sort: column index and direction. Default: as given. */
  sort?: {column: number; descending?: boolean};
  /** Accessible caption. */
  caption?: string;
  /** Class for a row (e.g. highlight lagging ones). */
  rowClass?: (row: T) => string | null;
  document?: Document;
}

function compareValues(a: string | number | null, b: string | number | null): number {
  if (a === null || b === null) return a === null ? (b === null ? 0 : 1) : -1; // missing last
  if (typeof a === "number" && typeof b === "number") return a - b;
  return compareZh(String(a), String(b));
}

/**
 * A sortable table: each header is a button (click, Enter or Space) that sorts by its column —
 * numbers largest first on the first press, text in pinyin order, missing values always last — and
 * flips the order on the next. A column with `metric` writes its raw value to the cell's `data-metric`,
 * `data-value` and (with `key`) `data-unit`, so checks read figures, not formatted text; a column with
 * `href` makes its cells links to pages of the site (any address with a scheme is refused). Text is
 * always set as text, never parsed as HTML, and shown as {@link displayText} shows names: bidi controls
 * and invisible characters removed, text wider than the column's `truncate` (default 40 columns, 20
 * Chinese characters) cut with `…` and shown whole in the cell's `title` on hover.
 *
 * @param rows - the rows, one per table row
 * @param options - the columns and how the table starts
 * @param options.columns - the columns, in order: `{label, value, format?, metric?, numeric?, href?, truncate?, title?}` (see {@link TableColumn})
 * @param options.key - the row's division code or id, written to `data-unit` of metric cells (default none)
 * @param options.sort - the initial sort: `{column: index, descending?}` (default none: the rows' order)
 * @param options.caption - the table's caption, also its accessible name (default none)
 * @param options.rowClass - a class for a row, e.g. to highlight lagging divisions (default none)
 * @param options.document - the document to create nodes in (default the page's `document`)
 * @returns a `<table class="fw-table fw-sortable">`
 * @example
 * ```ts
 * const names = new Map((await loadDivisions(db)).map((d) => [d.code, d.name]));
 * const rows = await metricByDivision(db, "recovery_total", {level: "市"});
 * const table = sortableTable(rows, {caption: "各地市追回金额", key: (r) => r.code, sort: {column: 1, descending: true}, columns: [
 *   {label: "地市", value: (r) => names.get(r.code) ?? r.code, href: (r) => `./district/${r.code}`},
 *   {label: "追回金额", value: (r) => r.numerator, format: (v) => formatMoney(Number(v), {unit: "元"}), metric: "recovery_total_fen"}
 * ]});
 * table.querySelector("tbody tr")?.textContent; // → "银川市6,568,559.47元"
 * table.querySelector("td[data-metric]")?.getAttribute("data-value"); // → "656855947"
 * ```
 */
export function sortableTable<T>(rows: readonly T[], options: SortableTableOptions<T>): HTMLTableElement {
  const doc = options.document ?? document;
  const {columns, key} = options;
  const table = doc.createElement("table");
  table.className = "fw-table fw-sortable";
  if (options.caption) table.createCaption().textContent = cleanText(options.caption);
  const thead = table.createTHead();
  const headRow = thead.insertRow();
  const tbody = table.createTBody();
  let sort = options.sort
    ? {column: options.sort.column, descending: options.sort.descending ?? false}
    : null;

  const buttons = columns.map((column, i) => {
    const th = doc.createElement("th");
    th.scope = "col";
    const numeric = column.numeric ?? rows.some((r) => typeof column.value(r) === "number");
    if (numeric) th.className = "fw-amount";
    const button = doc.createElement("button");
    button.type = "button";
    button.className = "fw-sort";
    button.textContent = column.label;
    button.addEventListener("click", () => {
      sort = {column: i, descending: sort?.column === i ? !sort.descending : numeric};
      render();
    });
    th.append(button);
    headRow.append(th);
    return {th, numeric};
  });

  function render(): void {
    const ordered = [...rows];
    if (sort) {
      const column = columns[sort.column];
      const direction = sort.descending ? -1 : 1;
      if (column)
        ordered.sort((a, b) => {
          const va = column.value(a);
          const vb = column.value(b);
          if (va === null || vb === null) return compareValues(va, vb);
          return direction * compareValues(va, vb);
        });
    }
    buttons.forEach(({th}, i) =>
      th.setAttribute(
        "aria-sort",
        sort?.column === i ? (sort.descending ? "descending" : "ascending") : "none"
      )
    );
    tbody.replaceChildren(
      ...ordered.map((row) => {
        const tr = doc.createElement("tr");
        const cls = options.rowClass?.(row);
        if (cls) tr.className = cls;
        columns.forEach((column, i) => {
          const td = doc.createElement("td");
          const value = column.value(row);
          const text = column.format ? column.format(value, row) : value === null ? "—" : String(value);
          const href = column.href?.(row);
          const max = column.truncate === false ? Infinity : (column.truncate ?? DISPLAY_WIDTH);
          let shown: HTMLElement = td;
          if (href && isSiteAddress(href)) {
            shown = doc.createElement("a");
            (shown as HTMLAnchorElement).href = href;
            td.append(shown);
          }
          setDisplayText(shown, text, max);
          const hover = column.title?.(row);
          if (hover) shown.title = cleanText(hover);
          if (buttons[i]?.numeric) td.className = "fw-amount";
          if (column.metric) {
            td.dataset.metric = column.metric;
            td.dataset.value = value === null ? "" : String(value);
            if (key) td.dataset.unit = key(row);
          }
          tr.append(td);
        });
        return tr;
      })
    );
  }
  render();
  return table;
}
