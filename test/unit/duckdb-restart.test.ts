// DuckDB-WASM's mvp bundle (what browsers without WebAssembly exceptions get) cannot catch C++
// exceptions: after a statement fails, the next statement on the same connection fails too. The SDK
// replaces the instance after a failure on the mvp bundle (restartAfterFailure in
// src/duckdb/client.ts, which openDatabase uses); here over DuckDB-WASM's Node build forced to the
// mvp bundle (the site's .wasm file), through the page's own query code (sqlClient), and with fake
// instances for the order of events.
import {join, resolve} from "node:path";
import {tsImport} from "tsx/esm/api";
import {beforeAll, describe, expect, it} from "vitest";
import {tableToRows, type Row} from "../../src/duckdb/convert.js";
import type {SqlValue} from "../../src/sql/template.js";
import type * as ClientModule from "../../src/duckdb/client.js";
import {startWasmNode, type WasmConnection} from "../support/duckdb-wasm-node.js";

const ROOT = resolve(import.meta.dirname, "..", "..");

/** src/duckdb/client.ts through Node's own loader (tsx): it calls import.meta.resolve, which vitest lacks. */
let client: typeof ClientModule;
beforeAll(async () => {
  client = (await tsImport(join(ROOT, "src", "duckdb", "client.ts"), import.meta.url)) as typeof client;
});

/**
 * A fresh mvp instance holding 30 institutions, codes 0…29, every third one (0, 3, …, 27) a 医院:
 * 10 hospitals, 4 of them with a code below 10 (0, 3, 6, 9).
 */
async function startMvp(): Promise<WasmConnection> {
  const db = await startWasmNode("mvp");
  const conn = db.connect();
  conn.query(
    "CREATE TABLE institutions AS SELECT range AS code, CASE WHEN range % 3 = 0 THEN '医院' ELSE '诊所' END AS kind FROM range(30)"
  );
  return conn;
}

/** The page's statement runner (openDatabase's) over a DuckDB-WASM connection. */
function execute(conn: WasmConnection, text: string, params: readonly SqlValue[]): Row[] {
  if (params.length === 0) return tableToRows(conn.query(text));
  const statement = conn.prepare(text);
  try {
    return tableToRows(statement.query(...params));
  } finally {
    statement.close();
  }
}

// `date` is no column of institutions: the statement fails while it is prepared.
const BAD = "SELECT * FROM institutions WHERE kind = ? AND date > 20240501";
const HOSPITALS = "SELECT count(*)::INTEGER AS n FROM institutions WHERE kind = '医院'";

describe("DuckDB-WASM's mvp bundle after a failed statement", () => {
  it("without a restart, the next statement on the connection fails too (what the SDK works around)", async () => {
    const conn = await startMvp();
    expect(execute(conn, HOSPITALS, [])).toEqual([{n: 10}]);
    expect(() => execute(conn, BAD, ["医院"])).toThrow(/_setThrew is not defined/);
    expect(() => execute(conn, HOSPITALS, [])).toThrow(/_setThrew is not defined/);
  }, 120_000);

  it("with restartAfterFailure, the failing query says what went wrong and the next queries return the right rows", async () => {
    let started = 0;
    const engine = client.restartAfterFailure({
      start: async () => (++started, startMvp()),
      stop: async () => undefined,
      restartOn: () => true // the mvp bundle, as openDatabase decides for DuckDB-WASM
    });
    const db = client.sqlClient((text, params) => engine.run(async (conn) => execute(conn, text, params)));
    expect(await db.sql`SELECT count(*)::INTEGER AS n FROM institutions`).toEqual([{n: 30}]);
    const error = await db.sql`SELECT * FROM institutions WHERE kind = ${"医院"} AND date > 20240501`.catch(
      (e: unknown) => e
    );
    expect(error).toBeInstanceOf(client.QueryError);
    expect(String(error)).toMatch(/^查询失败：此浏览器所用的 DuckDB 兼容版本（mvp）未能报告出错原因/);
    expect(engine.restarts()).toBe(1);
    expect(started).toBe(2);
    expect(await db.sql`SELECT count(*)::INTEGER AS n FROM institutions WHERE kind = ${"医院"}`).toEqual([
      {n: 10}
    ]);
    expect(
      await db.sql`SELECT count(*)::INTEGER AS n FROM institutions WHERE kind = ${"医院"} AND code < ${10}`
    ).toEqual([{n: 4}]);
    expect(await db.query({text: HOSPITALS, params: []})).toEqual([{n: 10}]);
    expect(engine.restarts()).toBe(1);
  }, 120_000);
});

/** A fake instance: its number, and whether statements on it fail. */
interface Fake {
  n: number;
  broken: boolean;
}

describe("restartAfterFailure(options)", () => {
  const fakeEngine = (restartOn = true) => {
    const events: string[] = [];
    let n = 0;
    const engine = client.restartAfterFailure<Fake>({
      start: async () => (events.push(`start ${n + 1}`), {n: ++n, broken: false}),
      stop: async (instance) => void events.push(`stop ${instance.n}`),
      restartOn: () => restartOn
    });
    return {engine, events};
  };
  const fail = (message: string) => async (): Promise<never> => {
    throw new Error(message);
  };

  it("starts the instance on first use, not before", async () => {
    const {engine, events} = fakeEngine();
    expect(events).toEqual([]);
    expect(await engine.run(async (i) => i.n)).toBe(1);
    expect(events).toEqual(["start 1"]);
  });

  it("replaces the instance after a failure, before the error reaches the caller", async () => {
    const {engine, events} = fakeEngine();
    await expect(engine.run(fail("坏语句"))).rejects.toThrow("坏语句");
    expect(events).toEqual(["start 1", "stop 1", "start 2"]);
    expect(await engine.run(async (i) => i.n)).toBe(2);
    expect(engine.restarts()).toBe(1);
  });

  it("stops the old instance only after the statements running on it have settled", async () => {
    const {engine, events} = fakeEngine();
    let finish = (): void => undefined;
    const slow = engine.run(
      (i) => new Promise<string>((resolve) => (finish = () => resolve(`slow on ${i.n}`)))
    );
    await engine.current();
    const failed = engine.run(fail("坏语句")).catch((e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual(["start 1"]); // the slow statement still runs on instance 1
    finish();
    expect(await slow).toBe("slow on 1");
    expect(await failed).toBe("坏语句");
    expect(events).toEqual(["start 1", "stop 1", "start 2"]);
  });

  it("runs once more on the new instance a statement that failed on an instance already being replaced", async () => {
    const {engine} = fakeEngine();
    const instance = await engine.current();
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    // Both statements run on instance 1; the first fails and breaks it, the second then fails because
    // of that, and succeeds when run again on instance 2.
    const first = engine.run(async (i) => {
      i.broken = true;
      throw new Error("坏语句");
    });
    const second = engine.run(async (i) => {
      await gate;
      if (i.broken) throw new Error("_setThrew is not defined");
      return `好语句 on ${i.n}`;
    });
    const firstError = first.catch((e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 10)); // the first has failed; its replacement waits for the second
    release();
    expect(await firstError).toBe("坏语句");
    expect(await second).toBe("好语句 on 2");
    expect(instance.n).toBe(1);
    expect(engine.restarts()).toBe(1);
  });

  it("replaces the new instance too when the statement fails again there, and then gives up on it", async () => {
    const {engine, events} = fakeEngine();
    await engine.current();
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const first = engine.run(fail("坏语句一"));
    const second = engine.run(async () => {
      await gate;
      throw new Error("坏语句二");
    });
    const firstError = first.catch((e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 10));
    release();
    expect(await firstError).toBe("坏语句一");
    await expect(second).rejects.toThrow("坏语句二");
    expect(engine.restarts()).toBe(2);
    expect(events).toEqual(["start 1", "stop 1", "start 2", "stop 2", "start 3"]);
    expect(await engine.run(async (i) => i.n)).toBe(3);
  });

  it("keeps the instance when the failure does not call for a restart (the eh bundle)", async () => {
    const {engine, events} = fakeEngine(false);
    await expect(engine.run(fail("坏语句"))).rejects.toThrow("坏语句");
    expect(await engine.run(async (i) => i.n)).toBe(1);
    expect(events).toEqual(["start 1"]);
    expect(engine.restarts()).toBe(0);
  });
});
