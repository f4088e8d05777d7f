/**
 * Writes tables into a DuckDB database file that DuckDB-WASM can attach with no extension.
 * The file is written beside its destination under a temporary name and renamed into place,
 * so a crash leaves the old file or none, never half a file.
 */
import {mkdir, readdir, rename, rm} from "node:fs/promises";
import {basename, dirname, join} from "node:path";
import {DuckDBInstance, dateValue, type DuckDBAppender, type DuckDBConnection} from "@duckdb/node-api";
import type {QueryDb} from "../src/sql/template.js";

/** Column types the writer supports. Money is BIGINT fen, never DOUBLE. */
export type ColumnType = "VARCHAR" | "BIGINT" | "INTEGER" | "BOOLEAN" | "DOUBLE" | "DATE";
export type CellValue = string | bigint | number | boolean | null;

export interface TableSpec {
  name: string;
  columns: {name: string; type: ColumnType}[];
  rows: CellValue[][];
}

/**
 * A table filled by a query on the writer's connection instead of rows from JS (the ingest's loaded
 * tables, which stay in DuckDB): `select` gives the columns in order; its ORDER BY is the rows' order.
 */
export interface SqlTableSpec {
  name: string;
  columns: {name: string; type: ColumnType}[];
  select: string;
}

/** The storage version DuckDB-WASM 1.29+ can read (see PLATFORM-NOTES). */
export const STORAGE_VERSION = "v1.0.0";

function isoToDate(iso: string): ReturnType<typeof dateValue> {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!match) throw new Error(`不是 ISO 日期：${iso}`);
  return dateValue({year: Number(match[1]), month: Number(match[2]), day: Number(match[3])});
}

/**
 * A text read from DuckDB as bytes (`encode(x)`), decoded whole: a leading U+FEFF is kept (reading a
 * VARCHAR through @duckdb/node-api drops it).
 */
export function textOfBytes(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", {ignoreBOM: true}).decode(bytes);
}

/** A quoted SQL identifier. */
export function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A quoted SQL string literal (for file paths in ATTACH, which takes no parameter). */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The temporary name a writer in this process uses for `path`: `<path>.<pid>.tmp`. */
export function tempPathFor(path: string): string {
  return `${path}.${process.pid}.tmp`;
}

/** Whether process `pid` is running (EPERM: it is, under another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes what a killed writer left beside `path` (`<path>.<pid>.tmp` and its `.wal`, for a pid no
 * longer running). A writer that is still running keeps its temporary file.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const dir = dirname(path);
  const name = basename(path);
  const removed: string[] = [];
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (!entry.startsWith(`${name}.`)) continue;
    const match = /^\.(\d+)\.tmp(\.wal)?$/.exec(entry.slice(name.length));
    if (!match || (Number(match[1]) !== process.pid && isAlive(Number(match[1])))) continue;
    await rm(join(dir, entry), {force: true});
    removed.push(entry);
  }
  return removed;
}

/** Appends one value to a row of `appender`, as a column of `type` holds it (a date as ISO text). */
export function appendCell(appender: DuckDBAppender, type: ColumnType, value: CellValue): void {
  if (value === null) appender.appendNull();
  else if (type === "VARCHAR") appender.appendVarchar(String(value));
  else if (type === "BIGINT") appender.appendBigInt(BigInt(value));
  else if (type === "INTEGER") appender.appendInteger(Number(value));
  else if (type === "BOOLEAN") appender.appendBoolean(Boolean(value));
  else if (type === "DATE") appender.appendDate(isoToDate(String(value)));
  else appender.appendDouble(Number(value));
}

/** Creates `table` in the attached database `out` and appends its rows (or inserts its query's). */
async function appendTable(conn: DuckDBConnection, table: TableSpec | SqlTableSpec): Promise<void> {
  const columns = table.columns.map((c) => `${quote(c.name)} ${c.type}`).join(", ");
  await conn.run(`CREATE TABLE out.main.${quote(table.name)} (${columns})`);
  if ("select" in table) {
    await conn.run(`INSERT INTO out.main.${quote(table.name)} ${table.select}`);
    return;
  }
  const appender = await conn.createAppender(table.name, "main", "out");
  for (const [r, row] of table.rows.entries()) {
    if (row.length !== table.columns.length) {
      throw new Error(`${table.name} 第 ${r + 1} 行有 ${row.length} 列，应为 ${table.columns.length} 列`);
    }
    table.columns.forEach(({type}, c) => appendCell(appender, type, row[c] ?? null));
    appender.endRow();
  }
  appender.closeSync();
}

export interface WriteOptions {
  /**
   * Called once the tables are written, with a `db` over them (the file as it will be): returns
   * further tables to add (e.g. the completeness gates' verdict, computed by SQL over the data).
   * An error thrown here leaves no file.
   */
  after?: (db: QueryDb) => Promise<TableSpec[]>;
}

/**
 * Writes a new database file at `path` atomically: `work` fills it, attached as `alias` (in the storage
 * version DuckDB-WASM reads) on a connection of its own; then it is checkpointed and renamed into
 * place. An error in `work` leaves no file (and the old one, if any, as it was); a killed writer's
 * leftovers beside `path` are removed first.
 *
 * @param path - the file to write
 * @param alias - the name the new file is attached under while `work` runs
 * @param work - fills the file
 */
export async function writeNewDuckDBFile(
  path: string,
  alias: string,
  work: (conn: DuckDBConnection) => Promise<void>,
  /** A connection to write through (left open), e.g. one whose tables `work` copies; default a new one. */
  through?: DuckDBConnection
): Promise<void> {
  await mkdir(dirname(path), {recursive: true});
  await removeStaleTemps(path);
  const temp = tempPathFor(path);
  const instance = through ? undefined : await DuckDBInstance.create(":memory:");
  const conn = through ?? (await (instance as DuckDBInstance).connect());
  try {
    await conn.run(`ATTACH ${literal(temp)} AS ${quote(alias)} (STORAGE_VERSION '${STORAGE_VERSION}')`);
    await work(conn);
    await conn.run(`CHECKPOINT ${quote(alias)}`);
    await conn.run(`DETACH ${quote(alias)}`);
  } catch (error) {
    await rm(temp, {force: true});
    await rm(`${temp}.wal`, {force: true});
    throw error;
  } finally {
    if (instance) {
      conn.closeSync();
      instance.closeSync();
    }
  }
  await rename(temp, path);
}

export async function writeDuckDBFile(
  path: string,
  tables: (TableSpec | SqlTableSpec)[],
  options: WriteOptions & {
    /** The connection whose tables the {@link SqlTableSpec}s read (default: a new in-memory one). */
    conn?: DuckDBConnection;
  } = {}
): Promise<void> {
  await writeNewDuckDBFile(
    path,
    "out",
    async (conn) => {
      for (const table of tables) await appendTable(conn, table);
      if (options.after) {
        await conn.run("USE out");
        const db: QueryDb = {
          async query(q) {
            return (await conn.runAndReadAll(q.text, q.params as never)).getRowObjectsJS() as Record<
              string,
              unknown
            >[];
          }
        };
        const extra = await options.after(db);
        await conn.run("USE memory");
        for (const table of extra) await appendTable(conn, table);
      }
    },
    options.conn
  );
}
