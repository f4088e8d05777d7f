/** The compute limit: the page's own queries run one after another by native DuckDB in Node on the same file. */
import {DuckDBInstance} from "@duckdb/node-api";

/** Runs `queries` in order `passes` times on `file` (attached read-only as the pages attach it); ms per pass. */
export async function nativeQueryPasses(
  file: string,
  queries: readonly {sql: string; params: unknown[]}[],
  passes: number
): Promise<number[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH '${file.replaceAll("'", "''")}' AS fundwatch (READ_ONLY)`);
    await conn.run("USE fundwatch");
    const totals: number[] = [];
    for (let p = 0; p < passes; ++p) {
      const start = performance.now();
      for (const q of queries) await conn.runAndReadAll(q.sql, q.params as never);
      totals.push(performance.now() - start);
    }
    return totals;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export {openNativeDb} from "../loaders/native-db.js";
