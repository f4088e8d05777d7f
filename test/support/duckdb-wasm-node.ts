// DuckDB-WASM's blocking Node build, on the same .wasm files the site serves: what the unit tests use to
// run the SDK's SQL in the engine the pages use, without a browser.
import {createRequire} from "node:module";
import {join} from "node:path";
import type {ArrowLikeTable} from "../../src/duckdb/convert.js";

export interface WasmConnection {
  query(text: string): ArrowLikeTable;
  prepare(text: string): {query(...params: unknown[]): ArrowLikeTable; close(): void};
}
export interface WasmDb {
  registerFileBuffer(name: string, buffer: Uint8Array): void;
  connect(): WasmConnection;
}

/** Starts the eh bundle (with the mvp as fallback), or only the mvp bundle older browsers get. */
export async function startWasmNode(only?: "mvp"): Promise<WasmDb> {
  const require = createRequire(import.meta.url);
  const duckdb = require("@duckdb/duckdb-wasm/blocking") as {
    createDuckDB(
      bundles: object,
      logger: object,
      runtime: object
    ): Promise<WasmDb & {instantiate(p: () => void): Promise<void>; open(c: object): void}>;
    VoidLogger: new () => object;
    NODE_RUNTIME: object;
  };
  const dist = join(require.resolve("@duckdb/duckdb-wasm/blocking"), "..");
  const mvp = {mainModule: join(dist, "duckdb-mvp.wasm"), mainWorker: ""};
  const bundles =
    only === "mvp" ? {mvp} : {mvp, eh: {mainModule: join(dist, "duckdb-eh.wasm"), mainWorker: ""}};
  const db = await duckdb.createDuckDB(bundles, new duckdb.VoidLogger(), duckdb.NODE_RUNTIME);
  await db.instantiate(() => undefined);
  db.open({});
  return db;
}
