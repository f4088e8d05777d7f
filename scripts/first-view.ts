/**
 * The pre-baked first view (issue 20). While the build's page check opens each page's default view,
 * the SDK logs every query the page makes (scripts/query-check.ts) and native DuckDB answers it again
 * on the same database file. Those native answers are written into the page as
 * `<script type="application/json" id="fw-first-view">`, keyed by SQL text, parameters and the data
 * file (its content-hashed path and SHA-256); `openDatabase` (src/duckdb/client.ts) serves them at once
 * while DuckDB-WASM starts in the background.
 *
 * A query is baked only when native DuckDB's rows, converted as the client converts DuckDB-WASM's
 * (BigInt to number, dates to Date), equal the browser's exactly — same rows in the same order, same
 * values to the last bit — so the page draws the same figures with the first view on or off. Any other
 * query is left to DuckDB-WASM and listed as skipped, with the reason.
 */
import {readFile} from "node:fs/promises";
import {join} from "node:path";
import type {LoggedQuery} from "../src/duckdb/client.js";
import {FIRST_VIEW_ID, firstViewKey, type FirstView, type FirstViewQuery} from "../src/duckdb/first-view.js";
import {sha256File, writeAtomic} from "../loaders/outputs.js";

/** The largest first view written into one page (JSON characters); beyond it, the largest answers are left out. */
export const FIRST_VIEW_LIMIT = 2_000_000;

/** What native DuckDB answered to one logged query (filled by `compareWithNative`). */
export interface NativeAnswer {
  query: LoggedQuery;
  native: Record<string, unknown>[];
}

/** A page's first view, and the queries left out of it with the reason. */
export interface BakedPage {
  view: FirstView | null;
  skipped: {sql: string; caller: string; reason: string}[];
}

type Cell = string | number | boolean | null;

/** One native value as the client gives it (a Date as its time in ms), or undefined if the client cannot. */
function clientValue(value: unknown): {cell: Cell; date: boolean} | undefined {
  if (value === null || value === undefined) return {cell: null, date: false};
  if (typeof value === "bigint") {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
    return {cell: Number(value), date: false};
  }
  if (typeof value === "number") return Number.isFinite(value) ? {cell: value, date: false} : undefined;
  if (typeof value === "string" || typeof value === "boolean") return {cell: value, date: false};
  if (value instanceof Date) return {cell: value.getTime(), date: true};
  return undefined;
}

/** The browser's value in the same form. */
function browserValue(value: unknown): {cell: Cell; date: boolean} | undefined {
  if (value instanceof Date) return {cell: value.getTime(), date: true};
  return clientValue(value);
}

/**
 * The first-view entry for one query: native DuckDB's rows in the client's form, or the reason they
 * cannot stand in for the browser's.
 */
export function bakeQuery({query, native}: NativeAnswer): FirstViewQuery | string {
  if (native.length !== query.rows.length)
    return `原生 DuckDB ${native.length} 行，浏览器 ${query.rows.length} 行`;
  const columns = Object.keys(native[0] ?? query.rows[0] ?? {});
  const dates = new Set<string>();
  const rows: Cell[][] = [];
  for (const [i, row] of native.entries()) {
    const theirs = query.rows[i] ?? {};
    if (
      Object.keys(row).join("\u0000") !== columns.join("\u0000") ||
      Object.keys(theirs).join("\u0000") !== columns.join("\u0000")
    )
      return `第 ${i + 1} 行的列不同`;
    const cells: Cell[] = [];
    for (const column of columns) {
      const mine = clientValue(row[column]);
      const browser = browserValue(theirs[column]);
      if (!mine) return `列 ${column} 的值无法写入首屏数据（${Object.prototype.toString.call(row[column])}）`;
      if (!browser || mine.cell !== browser.cell || (mine.cell !== null && mine.date !== browser.date))
        return `第 ${i + 1} 行列 ${column} 不同：原生 ${String(mine.cell)}，浏览器 ${String(browser?.cell)}`;
      if (mine.date) dates.add(column);
      cells.push(mine.cell);
    }
    rows.push(cells);
  }
  return {sql: query.sql, params: [...query.params], columns, dates: [...dates], rows};
}

/**
 * The first view of one page from the native answers to its logged queries. Only queries on the
 * site's own data file (attached as `fundwatch`, the file at `dataPath` from the site root) are
 * baked; the page's base URL (`baseUrl`) turns logged URLs into site paths.
 */
export async function bakePage(
  answers: readonly NativeAnswer[],
  {
    dist,
    baseUrl,
    dataPath,
    limit = FIRST_VIEW_LIMIT
  }: {dist: string; baseUrl: string; dataPath: string; limit?: number}
): Promise<BakedPage> {
  const skipped: BakedPage["skipped"] = [];
  const base = new URL(baseUrl).pathname;
  const sitePath = (url: string): string => {
    const path = new URL(url).pathname;
    return path.startsWith(base) ? path.slice(base.length) : path.replace(/^\//, "");
  };
  const baked: FirstViewQuery[] = [];
  const seen = new Set<string>();
  for (const answer of answers) {
    const {query} = answer;
    const key = firstViewKey(query.sql, query.params);
    if (seen.has(key)) continue;
    seen.add(key);
    const files = Object.entries(query.files ?? {});
    if (files.length !== 1 || files[0]?.[0] !== "fundwatch" || sitePath(files[0][1]) !== dataPath) {
      skipped.push({sql: query.sql, caller: query.caller, reason: "不是站点自己的数据文件上的查询"});
      continue;
    }
    const entry = bakeQuery(answer);
    if (typeof entry === "string") skipped.push({sql: query.sql, caller: query.caller, reason: entry});
    else baked.push(entry);
  }
  // Within the limit: the smallest answers first (they are most of a page's figures).
  const sized = baked.map((q) => ({q, size: JSON.stringify(q).length})).sort((a, b) => a.size - b.size);
  const kept: FirstViewQuery[] = [];
  let total = 0;
  for (const {q, size} of sized) {
    if (total + size > limit) {
      skipped.push({sql: q.sql, caller: "", reason: `首屏数据超过 ${limit} 字符的上限`});
      continue;
    }
    total += size;
    kept.push(q);
  }
  const order = new Map(baked.map((q, i) => [q, i]));
  kept.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  if (kept.length === 0) return {view: null, skipped};
  return {
    view: {
      format: 1,
      files: {fundwatch: dataPath},
      sha256: {fundwatch: await sha256File(join(dist, dataPath))},
      queries: kept
    },
    skipped
  };
}

/** JSON safe inside `<script>`: no `<`, `>`, `&` or line separators as themselves. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
  );
}

/** The HTML file of a page path: `/` → index.html, `/district/640100` → district/640100.html. */
export function pageFile(dist: string, path: string): string {
  const rel =
    path === "/" ? "index.html" : path.endsWith("/") ? `${path.slice(1)}index.html` : `${path.slice(1)}.html`;
  return join(dist, rel);
}

/** Writes (or replaces) a page's first view in its HTML, in `<head>`; removes it when `view` is null. */
export async function writeFirstView(file: string, view: FirstView | null): Promise<void> {
  const html = await readFile(file, "utf-8");
  const pattern = new RegExp(`<script type="application/json" id="${FIRST_VIEW_ID}">[^<]*</script>\\n?`);
  const without = html.replace(pattern, "");
  const element = view
    ? `<script type="application/json" id="${FIRST_VIEW_ID}">${scriptJson(view)}</script>\n`
    : "";
  if (!element && without === html) return;
  const at = without.indexOf("</head>");
  if (at < 0) throw new Error(`${file} 没有 </head>，无法写入首屏数据`);
  await writeAtomic(file, without.slice(0, at) + element + without.slice(at));
}

/** The first view a built page carries, or null. */
export async function readFirstView(file: string): Promise<FirstView | null> {
  const html = await readFile(file, "utf-8");
  const m = new RegExp(`<script type="application/json" id="${FIRST_VIEW_ID}">([^<]*)</script>`).exec(html);
  return m?.[1] ? (JSON.parse(m[1]) as FirstView) : null;
}
