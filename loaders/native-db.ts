/** A `db` over native DuckDB (Node) with a database file attached read-only, as the pages attach it. */
import {DuckDBInstance} from "@duckdb/node-api";
import type {QueryDb, SqlQuery} from "../src/sql/template.js";
import {literal, quote} from "./duckdb-file.js";

/**
 * A `db` (anything with `query(SqlQuery)`) over native DuckDB with `file` attached read-only as
 * `fundwatch`: the build's checks and the benchmark run the SDK's own queries on it. `beside` attaches
 * more files read-only under their names (the small data file's full file as `fundwatch_full`, say).
 */
export async function openNativeDb(
  file: string,
  {beside = {}}: {beside?: Record<string, string>} = {}
): Promise<{db: QueryDb; close: () => void}> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  await conn.run(`ATTACH ${literal(file)} AS fundwatch (READ_ONLY)`);
  for (const [name, path] of Object.entries(beside))
    await conn.run(`ATTACH ${literal(path)} AS ${quote(name)} (READ_ONLY)`);
  await conn.run("USE fundwatch");
  return {
    db: {
      async query(q: SqlQuery) {
        const reader = await conn.runAndReadAll(q.text, q.params as never);
        return reader.getRowObjectsJS() as Record<string, unknown>[];
      }
    },
    close: () => {
      conn.closeSync();
      instance.closeSync();
    }
  };
}
