// DuckDB-WASM 1.4.3 (package @duckdb/duckdb-wasm 1.32.0, eh and mvp bundles) answers a query that joins
// an inlined CTE holding a bound VARCHAR parameter to itself, under ORDER BY … LIMIT, with 0 rows and
// no error; native DuckDB returns the rows. The SDK's filtered views (scopeSql's f_*) are MATERIALIZED
// to avoid it. This file pins both halves: the smallest reproduction (docs/upstream/
// duckdb-wasm-empty-top-n.md) still fails in the pinned package — when an upgrade fixes it, this test
// says so and the workaround can go — and the SDK's own queries of that shape agree with native DuckDB.
import {readFile, mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {writeDuckDBFile} from "../../loaders/duckdb-file.js";
import {ingest} from "../../loaders/ingest.js";
import {openNativeDb} from "../../loaders/native-db.js";
import {toTables} from "../../loaders/outputs.js";
import {tableToRows} from "../../src/duckdb/convert.js";
import {institutionsWithFindingsSql, scopeSql} from "../../src/metrics/index.js";
import {sqlQuery, type SqlQuery} from "../../src/sql/template.js";
import {startWasmNode, type WasmConnection} from "../support/duckdb-wasm-node.js";

const SETUP = "CREATE TABLE t0 AS SELECT x, CAST(x % 3 AS VARCHAR) AS k FROM range(20) AS r(x)";
const REPRO =
  "WITH t AS (SELECT * FROM t0 WHERE k = ?) SELECT a.x FROM t AS a JOIN t AS b ON a.x = b.x ORDER BY a.x LIMIT 3";
const FIXED = REPRO.replace("WITH t AS (", "WITH t AS MATERIALIZED (");

const prepared = (conn: WasmConnection, text: string, params: unknown[]): unknown[] => {
  const statement = conn.prepare(text);
  try {
    return tableToRows(statement.query(...params)).map((r) => r.x);
  } finally {
    statement.close();
  }
};

describe("the empty top-N of DuckDB-WASM 1.4.3", () => {
  it("native DuckDB answers the reproduction with 3 rows", async () => {
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    try {
      await conn.run(SETUP);
      const rows = (await conn.runAndReadAll(REPRO, ["1"])).getRows().map(([x]) => Number(x));
      expect(rows).toEqual([1, 4, 7]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });

  for (const bundle of ["eh", "mvp"] as const) {
    it(`DuckDB-WASM (${bundle}) still answers it with 0 rows; materialized, with the right 3; a literal too`, async () => {
      const db = await startWasmNode(bundle === "mvp" ? "mvp" : undefined);
      const conn = db.connect();
      conn.query(SETUP);
      // If this fails with [1, 4, 7], the upgrade fixed the bug: remove MATERIALIZED from scopeSql and this pin.
      expect(prepared(conn, REPRO, ["1"])).toEqual([]);
      expect(prepared(conn, FIXED, ["1"])).toEqual([1, 4, 7]);
      expect(tableToRows(conn.query(REPRO.replace("?", "'1'"))).map((r) => r.x)).toEqual([1, 4, 7]);
    });
  }
});

describe("the SDK's filtered views under that shape", () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fundwatch-topn-"));
    file = join(dir, "f.duckdb");
    const result = await ingest([join(import.meta.dirname, "..", "..", "data", "ningxia")], {
      today: "2024-12-31"
    });
    await writeDuckDBFile(file, toTables(result, {source: "t", generatedAt: "2024-12-31T00:00:00Z"}));
  }, 60_000);
  afterAll(async () => {
    await rm(dir, {recursive: true, force: true});
  });

  it("an analyst's top 10 over f_findings joined to f_inspections and institutions, by city: WASM = native, never empty", async () => {
    const {db, close} = await openNativeDb(file);
    const wasm = await startWasmNode();
    wasm.registerFileBuffer("f.duckdb", new Uint8Array(await readFile(file)));
    const conn = wasm.connect();
    conn.query("ATTACH 'f.duckdb' AS f (READ_ONLY)");
    conn.query("USE f");
    const inWasm = (q: SqlQuery): unknown[] => {
      const statement = conn.prepare(q.text);
      try {
        return tableToRows(statement.query(...q.params));
      } finally {
        statement.close();
      }
    };
    try {
      for (const within of ["640100", "640104", "640300", "640500"]) {
        const top = sqlQuery`${scopeSql({within})}
SELECT i.name, count(*) AS n FROM f_findings AS x JOIN f_inspections AS s ON s.id = x.inspection_id
JOIN institutions AS i ON i.code = s.institution_code GROUP BY i.name ORDER BY n DESC, i.name LIMIT 10`;
        const native = await db.query(top);
        expect(native.length, within).toBe(10);
        expect(inWasm(top), within).toEqual(native.map((r) => ({name: r.name, n: Number(r.n)})));
        const institutions = institutionsWithFindingsSql({within}, 10);
        expect(inWasm(institutions).length, within).toBe((await db.query(institutions)).length);
      }
    } finally {
      close();
    }
  });
});
