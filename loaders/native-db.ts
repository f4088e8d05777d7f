/** A `db` over native DuckDB (Node) with a database file attached read-only, as the pages attach it. */
import {DuckDBInstance} from "@duckdb/node-api";
import type {QueryDb, SqlQuery} from "../src/sql/template.js";

/**
 * A `db` (anything with `query(SqlQuery)`) over native DuckDB with `file` attached read-only as
 * `fundwatch`: the build's checks and the benchmark run the SDK's own queries on it.
 */
export async function openNativeDb(file: string): Promise<{db: QueryDb; close: () => void}> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  await conn.run(`ATTACH '${file.replaceAll("'", "''")}' AS fundwatch (READ_ONLY)`);
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
