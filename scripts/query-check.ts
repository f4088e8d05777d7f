/**
 * The browser's answers against native DuckDB's. While the page check opens each page, the SDK's client
 * logs every query the page makes for its default view with DuckDB-WASM's rows
 * (`globalThis.__fundwatchQueryLog`, see src/duckdb/client.ts); each is then run again in native DuckDB
 * (Node) on the same database file, and any difference — above all an empty browser result where native
 * DuckDB has rows (DuckDB-WASM 1.4.3's silent 0-row answer, docs/upstream/duckdb-wasm-empty-top-n.md) —
 * becomes a problem of that page, naming the caller and the SQL, so the build does not publish it.
 */
import type {Page} from "playwright-core";
import {openNativeDb} from "../loaders/native-db.js";
import {databaseFile} from "./briefing.js";
import type {LoggedQuery} from "../src/duckdb/client.js";
import type {NativeAnswer} from "./first-view.js";
import type {QueryDb} from "../src/sql/template.js";

/**
 * Makes the SDK log the page's queries (run before any of the page's scripts), with the page's
 * pre-baked first view switched off: every query is DuckDB-WASM's to answer.
 */
export async function logQueries(page: Page): Promise<void> {
  await page.addInitScript(() => {
    (globalThis as {__fundwatchQueryLog?: unknown[]}).__fundwatchQueryLog = [];
    (globalThis as {__fundwatchFirstViewOff?: boolean}).__fundwatchFirstViewOff = true;
  });
}

/** The queries the page made, with DuckDB-WASM's rows (Dates arrive as Dates). */
export async function loggedQueries(page: Page): Promise<LoggedQuery[]> {
  return page.evaluate(
    () => (globalThis as {__fundwatchQueryLog?: unknown}).__fundwatchQueryLog ?? []
  ) as Promise<LoggedQuery[]>;
}

/**
 * One value in a form both engines give alike: BigInt and number as a number (a double to 12
 * significant digits, so a sum taken in another order is not a difference), a Date as its ISO text.
 */
function canonical(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number") return Number.isInteger(value) ? value : Number(value.toPrecision(12));
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object")
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
  return value;
}

/** The rows as sorted canonical texts: row order is compared only where both engines must agree on it. */
function canonicalRows(rows: readonly Record<string, unknown>[]): string[] {
  return rows
    .map((row) =>
      JSON.stringify(
        Object.keys(row)
          .sort()
          .map((k) => [k, canonical(row[k])])
      )
    )
    .sort();
}

const short = (text: string, n = 300): string => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > n ? `${flat.slice(0, n)}…` : flat;
};

/**
 * The differences between what the browser answered and what native DuckDB answers to the same
 * queries. Native DuckDB's answers are added to `answers` when given (the first view is made from them).
 */
export async function compareWithNative(
  queries: readonly LoggedQuery[],
  db: QueryDb,
  answers?: NativeAnswer[]
): Promise<string[]> {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const q of queries) {
    const key = JSON.stringify([q.sql, q.params]);
    if (seen.has(key)) continue;
    seen.add(key);
    let native: Record<string, unknown>[];
    try {
      native = await db.query({text: q.sql, params: q.params});
    } catch (error) {
      problems.push(
        `查询在原生 DuckDB 中出错（浏览器得到 ${q.rows.length} 行）：${short((error as Error).message, 200)}；调用位置 ${q.caller || "未知"}；SQL：${short(q.sql)}`
      );
      continue;
    }
    answers?.push({query: q, native});
    const where = `调用位置 ${q.caller || "未知"}；参数 ${JSON.stringify(q.params)}；SQL：${short(q.sql)}`;
    if (q.rows.length === 0 && native.length > 0) {
      problems.push(`浏览器（DuckDB-WASM）的查询结果意外为空，原生 DuckDB 有 ${native.length} 行：${where}`);
      continue;
    }
    const browserRows = canonicalRows(q.rows);
    const nativeRows = canonicalRows(native);
    if (browserRows.length !== nativeRows.length) {
      problems.push(
        `浏览器得到 ${browserRows.length} 行，原生 DuckDB 得到 ${nativeRows.length} 行：${where}`
      );
      continue;
    }
    const at = browserRows.findIndex((row, i) => row !== nativeRows[i]);
    if (at >= 0)
      problems.push(
        `浏览器与原生 DuckDB 的结果不同（${browserRows.length} 行中的一行：浏览器 ${short(browserRows[at] ?? "", 200)}，原生 ${short(nativeRows[at] ?? "", 200)}）：${where}`
      );
  }
  return problems;
}

/** Runs `fn` with native DuckDB on the database file of the built site in `dist`. */
export async function withSiteDb<T>(dist: string, fn: (db: QueryDb) => Promise<T>): Promise<T> {
  const {db, close} = await openNativeDb(await databaseFile(dist));
  try {
    return await fn(db);
  } finally {
    close();
  }
}
