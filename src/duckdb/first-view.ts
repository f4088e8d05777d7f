/**
 * The pre-baked first view's format, shared by the page (src/duckdb/client.ts reads it) and the build
 * (scripts/first-view.ts writes it). Nothing here touches DuckDB-WASM, so Node code and tests import it
 * directly.
 */
import type {Row} from "./convert.js";
import type {SqlValue} from "../sql/template.js";

/** The id of the `<script type="application/json">` element holding a page's pre-baked first view. */
export const FIRST_VIEW_ID = "fw-first-view";

/** One query of a page's first view, answered at build time: the rows as the client returns them. */
export interface FirstViewQuery {
  sql: string;
  params: SqlValue[];
  columns: string[];
  /** The columns whose values are dates (sent as milliseconds since 1970-01-01 UTC). */
  dates: string[];
  rows: (string | number | boolean | null)[][];
}

/**
 * A page's pre-baked first view (written into the page by `npm run build`, scripts/first-view.ts):
 * the answers to the queries the page makes for its default view, computed at build time in native
 * DuckDB over the same files, keyed by the SQL text, the parameters and the data files (their
 * content-hashed paths and SHA-256).
 */
export interface FirstView {
  format: 1;
  /** Schema name → the data file's path from the site root (content-hashed by Framework). */
  files: Record<string, string>;
  /** Schema name → the data file's SHA-256. */
  sha256: Record<string, string>;
  queries: FirstViewQuery[];
}

/** How a page's first view was used: tests and the benchmark read `globalThis.__fundwatchFirstView`. */
export interface FirstViewStats {
  /** "on" (the page has one for its files), "none" (no first view in the page), "stale" (for other files), "off" (switched off). */
  state: "on" | "none" | "stale" | "off";
  /** Queries answered from it. */
  served: number;
  /** Queries DuckDB-WASM answered (after a filter change, a query string, or a query not pre-baked). */
  computed: number;
  /** Of those, the ones it refused with an error (a page showing an error on purpose: the guide's examples). */
  failed: number;
}

/** The key of a query in a first view: its SQL text and parameters. */
export function firstViewKey(sql: string, params: readonly unknown[]): string {
  return JSON.stringify([sql, params], (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
}

/** The rows of a pre-baked query as the client returns them (fresh objects each time). */
export function firstViewRows({columns, dates, rows}: FirstViewQuery): Row[] {
  const isDate = columns.map((c) => dates.includes(c));
  return rows.map((values) => {
    const row: Row = {};
    columns.forEach((column, i) => {
      const value = values[i] ?? null;
      row[column] = isDate[i] && typeof value === "number" ? new Date(value) : value;
    });
    return row;
  });
}
