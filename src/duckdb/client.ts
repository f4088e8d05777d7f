/**
 * The browser SQL client: DuckDB-WASM served from the site itself (both the mvp and the eh bundle;
 * `selectBundle` picks eh where the browser supports WebAssembly exceptions), extension auto-loading
 * off, loader outputs attached read-only, values bound as parameters, results converted at the boundary.
 */
import * as duckdb from "@duckdb/duckdb-wasm";
import {tableToRows, type Row} from "./convert.js";
import {ident, sqlQuery, type SqlQuery, type SqlValue} from "../sql/template.js";

// Framework copies these files into the site (dist/_node/...) because of import.meta.resolve.
const BUNDLES: duckdb.DuckDBBundles = {
  mvp: {
    mainModule: import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-mvp.wasm"),
    mainWorker: import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-browser-mvp.worker.js")
  },
  eh: {
    mainModule: import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-eh.wasm"),
    mainWorker: import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-browser-eh.worker.js")
  }
};

/** A query that failed, with a Chinese message and the SQL for analysts. */
export class QueryError extends Error {
  readonly sql: string;
  readonly params: readonly SqlValue[];
  constructor(message: string, sql: string, params: readonly SqlValue[], cause?: unknown) {
    super(`${message}\n\nSQL：${sql}${params.length ? `\n参数：${JSON.stringify(params)}` : ""}`, {cause});
    this.name = "QueryError";
    this.sql = sql;
    this.params = params;
  }
}

/** Turns a DuckDB error into a readable Chinese message. */
export function describeDuckDBError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const extension = /extension "?(\w+)"?/i.exec(text) ?? /requires? the (\w+) extension/i.exec(text);
  if (extension || /autoload|Extension/i.test(text)) {
    return `查询失败：此查询需要 DuckDB 扩展${extension ? ` ${extension[1]}` : ""}，离线站点不加载任何扩展。原始错误：${text}`;
  }
  return `查询失败：${text}`;
}

/** Where the browser gets the bytes of a database file: a Framework FileAttachment or a URL. */
export type DatabaseSource = {url(): string | Promise<string>} | string;

/** The tagged template pages use: ```sql cells compile to calls of it. */
export type SqlTag = (strings: readonly string[], ...values: readonly unknown[]) => Promise<Row[]>;

export interface FundwatchDatabase {
  /** Runs a tagged-template query; interpolated values are bound parameters. */
  readonly sql: SqlTag;
  /** Runs a {@link SqlQuery}. */
  query(query: SqlQuery): Promise<Row[]>;
  /** The names of the tables in the attached databases. */
  tables(): Promise<string[]>;
  /** Which bundle runs: `"eh"` or `"mvp"`. */
  readonly bundle: string;
  /** The underlying DuckDB-WASM instance, for advanced use. */
  readonly duckdb: duckdb.AsyncDuckDB;
}

let started: Promise<{db: duckdb.AsyncDuckDB; bundle: string}> | undefined;

/**
 * The bundles to choose from: both, unless the page URL says `?duckdb=mvp` or `?duckdb=eh`
 * (to try the bundle an older intranet browser would get).
 */
function candidateBundles(): duckdb.DuckDBBundles {
  const forced = typeof location === "undefined" ? null : new URLSearchParams(location.search).get("duckdb");
  if (forced === "mvp") return {mvp: BUNDLES.mvp};
  if (forced === "eh" && BUNDLES.eh) return {mvp: BUNDLES.eh};
  return BUNDLES;
}

/** Starts DuckDB-WASM once per page; later calls share the same instance. */
export function startDuckDB(): Promise<{db: duckdb.AsyncDuckDB; bundle: string}> {
  started ??= (async () => {
    const bundle = await duckdb.selectBundle(candidateBundles());
    if (!bundle.mainWorker) throw new Error("DuckDB-WASM 资源缺失：找不到 worker 文件");
    const worker = new Worker(bundle.mainWorker, {type: "module"});
    const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
    await db.instantiate(bundle.mainModule);
    await db.open({query: {castDecimalToDouble: true, castBigIntToDouble: false}});
    const conn = await db.connect();
    try {
      // Offline: no extension may be fetched; a query that needs one must fail at once.
      await conn.query("SET autoinstall_known_extensions = false");
      await conn.query("SET autoload_known_extensions = false");
    } finally {
      await conn.close();
    }
    return {db, bundle: bundle.mainModule.includes("-eh") ? "eh" : "mvp"};
  })();
  return started;
}

/** The absolute URL of a source, so the same file written two ways is recognised as one. */
async function sourceUrl(source: DatabaseSource): Promise<string> {
  const url = typeof source === "string" ? source : await source.url();
  return typeof document === "undefined" ? url : new URL(url, document.baseURI).href;
}

/** The name of the User Timing measure of every query (DevTools' Performance panel and the benchmark read them). */
export const QUERY_MEASURE = "fundwatch:query";

/** Records a query's wall time, SQL and parameters as a `performance.measure` (nothing if unsupported). */
function measureQuery(start: number, sql: string, params: readonly SqlValue[]): void {
  try {
    performance.measure(QUERY_MEASURE, {start, end: performance.now(), detail: {sql, params}});
  } catch {
    // Old browsers without measure options: timing is a diagnostic, never a failure.
  }
}

/** What is attached under each schema name in this page's DuckDB: name → source URL. */
const attached = new Map<string, Promise<string>>();

/**
 * Attaches a database file under `name`, once per page: a second call with the same URL reuses it
 * (cells may call openDatabase more than once); a different URL replaces it.
 */
async function attach(
  db: duckdb.AsyncDuckDB,
  conn: duckdb.AsyncDuckDBConnection,
  name: string,
  url: string,
  bytes: Uint8Array
): Promise<void> {
  const previous = attached.get(name);
  const next = (async () => {
    const before = await previous?.catch(() => undefined);
    if (before === url) return url;
    const schema = ident(name).quoted;
    const fileName = `${name}-${attached.size}-${Date.now()}.duckdb`;
    if (before !== undefined) await conn.query(`DETACH ${schema}`);
    await db.registerFileBuffer(fileName, bytes);
    await conn.query(`ATTACH '${fileName.replaceAll("'", "''")}' AS ${schema} (READ_ONLY)`);
    return url;
  })();
  attached.set(name, next);
  await next;
}

/**
 * Opens DuckDB-WASM with the given database files attached read-only, each under its key as schema
 * name; the first becomes the default schema. Files are fetched whole (not range-read) so a reload
 * can never mix old and new bytes.
 */
export async function openDatabase(sources: Record<string, DatabaseSource>): Promise<FundwatchDatabase> {
  const [{db, bundle}, files] = await Promise.all([
    startDuckDB(),
    Promise.all(
      Object.entries(sources).map(async ([name, source]) => {
        const url = await sourceUrl(source);
        const response = await fetch(url);
        if (!response.ok) throw new Error(`数据文件 ${name} 读取失败：HTTP ${response.status}（${url}）`);
        return {name, url, bytes: new Uint8Array(await response.arrayBuffer())};
      })
    )
  ]);
  const conn = await db.connect();
  for (const [i, {name, url, bytes}] of files.entries()) {
    await attach(db, conn, name, url, bytes);
    if (i === 0) await conn.query(`USE ${ident(name).quoted}`);
  }

  async function query({text, params}: SqlQuery): Promise<Row[]> {
    let statement: Awaited<ReturnType<typeof conn.prepare>> | undefined;
    const start = performance.now();
    try {
      if (params.length === 0) return tableToRows(await conn.query(text));
      statement = await conn.prepare(text);
      return tableToRows(await statement.query(...params));
    } catch (error) {
      throw new QueryError(describeDuckDBError(error), text, params, error);
    } finally {
      await statement?.close();
      measureQuery(start, text, params);
    }
  }

  return {
    sql: (strings, ...values) => query(sqlQuery(strings, ...values)),
    query,
    async tables() {
      const rows = await query(
        sqlQuery`SELECT table_name FROM information_schema.tables WHERE table_catalog <> 'system' AND table_catalog <> 'temp' ORDER BY table_name`
      );
      return rows.map((row) => String(row.table_name));
    },
    bundle,
    duckdb: db
  };
}
