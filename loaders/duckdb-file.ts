/**
 * Writes tables into a DuckDB database file that DuckDB-WASM can attach with no extension.
 * The file is written beside its destination under a temporary name and renamed into place,
 * so a crash leaves the old file or none, never half a file.
 */
import {mkdir, rename, rm} from "node:fs/promises";
import {dirname} from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";

/** Column types the writer supports. Money is BIGINT fen, never DOUBLE. */
export type ColumnType = "VARCHAR" | "BIGINT" | "INTEGER" | "BOOLEAN" | "DOUBLE";
export type CellValue = string | bigint | number | boolean | null;

export interface TableSpec {
  name: string;
  columns: {name: string; type: ColumnType}[];
  rows: CellValue[][];
}

/** The storage version DuckDB-WASM 1.29+ can read (see PLATFORM-NOTES). */
export const STORAGE_VERSION = "v1.0.0";

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export async function writeDuckDBFile(path: string, tables: TableSpec[]): Promise<void> {
  await mkdir(dirname(path), {recursive: true});
  const temp = `${path}.${process.pid}.tmp`;
  await rm(temp, {force: true});
  await rm(`${temp}.wal`, {force: true});
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH '${temp.replaceAll("'", "''")}' AS out (STORAGE_VERSION '${STORAGE_VERSION}')`);
    for (const table of tables) {
      const columns = table.columns.map((c) => `${quote(c.name)} ${c.type}`).join(", ");
      await conn.run(`CREATE TABLE out.main.${quote(table.name)} (${columns})`);
      const appender = await conn.createAppender(table.name, "main", "out");
      for (const [r, row] of table.rows.entries()) {
        if (row.length !== table.columns.length) {
          throw new Error(`${table.name} 第 ${r + 1} 行有 ${row.length} 列，应为 ${table.columns.length} 列`);
        }
        table.columns.forEach(({type}, c) => {
          const value = row[c] ?? null;
          if (value === null) appender.appendNull();
          else if (type === "VARCHAR") appender.appendVarchar(String(value));
          else if (type === "BIGINT") appender.appendBigInt(BigInt(value));
          else if (type === "INTEGER") appender.appendInteger(Number(value));
          else if (type === "BOOLEAN") appender.appendBoolean(Boolean(value));
          else appender.appendDouble(Number(value));
        });
        appender.endRow();
      }
      appender.closeSync();
    }
    await conn.run("CHECKPOINT out");
    await conn.run("DETACH out");
  } catch (error) {
    await rm(temp, {force: true});
    throw error;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  await rename(temp, path);
}
