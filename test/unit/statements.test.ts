// The prepared-statement cache of the browser client (src/duckdb/statements.ts): one preparation per
// SQL text, reused with other values; the least recently used dropped and closed, never one in use; a
// failed preparation not kept. Over DuckDB-WASM too: a kept statement run with new values answers what
// a fresh one does.
import {describe, expect, it} from "vitest";
import {statementCache} from "../../src/duckdb/statements.js";
import {tableToRows} from "../../src/duckdb/convert.js";
import {startWasmNode} from "../support/duckdb-wasm-node.js";

function fakes() {
  const log: string[] = [];
  let n = 0;
  const prepare = async (text: string) => {
    if (text.startsWith("BAD")) {
      log.push(`fail ${text}`);
      throw new Error(`cannot prepare ${text}`);
    }
    const id = ++n;
    log.push(`prepare ${text}#${id}`);
    return {
      id,
      text,
      close: async () => {
        log.push(`close ${text}#${id}`);
      }
    };
  };
  return {log, prepare};
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("statementCache", () => {
  it("prepares a SQL text once and reuses it", async () => {
    const {log, prepare} = fakes();
    const cache = statementCache(prepare);
    expect(await cache.use("A", async (s) => s.id)).toBe(1);
    expect(await cache.use("A", async (s) => s.id)).toBe(1);
    expect(await cache.use("B", async (s) => s.id)).toBe(2);
    expect(log).toEqual(["prepare A#1", "prepare B#2"]);
    expect(cache.size()).toBe(2);
  });

  it("shares one preparation among concurrent uses of a text", async () => {
    const {log, prepare} = fakes();
    const cache = statementCache(prepare);
    const ids = await Promise.all([1, 2, 3].map(() => cache.use("A", async (s) => s.id)));
    expect(ids).toEqual([1, 1, 1]);
    expect(log).toEqual(["prepare A#1"]);
  });

  it("drops and closes the least recently used beyond its size, not the one used last", async () => {
    const {log, prepare} = fakes();
    const cache = statementCache(prepare, 2);
    await cache.use("A", async () => 0);
    await cache.use("B", async () => 0);
    await cache.use("A", async () => 0); // A is now the most recent
    await cache.use("C", async () => 0);
    await tick();
    expect(log).toEqual(["prepare A#1", "prepare B#2", "prepare C#3", "close B#2"]);
    expect(cache.size()).toBe(2);
    await cache.use("A", async () => 0);
    expect(log.filter((l) => l.startsWith("prepare"))).toHaveLength(3);
  });

  it("never closes a statement while it runs", async () => {
    const {log, prepare} = fakes();
    const cache = statementCache(prepare, 0);
    let release = (): void => undefined;
    const running = cache.use("A", () => new Promise<number>((resolve) => (release = () => resolve(1))));
    await tick();
    await cache.use("B", async () => 0);
    await tick();
    expect(log).toEqual(["prepare A#1", "prepare B#2", "close B#2"]);
    release();
    expect(await running).toBe(1);
    await tick();
    expect(log.at(-1)).toBe("close A#1");
    expect(cache.size()).toBe(0);
  });

  it("does not keep a failed preparation: the next use prepares again", async () => {
    const {log, prepare} = fakes();
    const cache = statementCache(prepare);
    await expect(cache.use("BAD 1", async () => 0)).rejects.toThrow("cannot prepare BAD 1");
    await tick();
    expect(cache.size()).toBe(0);
    await expect(cache.use("BAD 1", async () => 0)).rejects.toThrow("cannot prepare BAD 1");
    expect(log).toEqual(["fail BAD 1", "fail BAD 1"]);
  });

  it("keeps a statement whose run failed (the statement itself is sound)", async () => {
    const {log, prepare} = fakes();
    const cache = statementCache(prepare);
    await expect(
      cache.use("A", async () => {
        throw new Error("run failed");
      })
    ).rejects.toThrow("run failed");
    expect(await cache.use("A", async (s) => s.id)).toBe(1);
    expect(log).toEqual(["prepare A#1"]);
  });

  it("clear() closes what is not in use", async () => {
    const {log, prepare} = fakes();
    const cache = statementCache(prepare);
    await cache.use("A", async () => 0);
    await cache.use("B", async () => 0);
    await cache.clear();
    await tick();
    expect(log.filter((l) => l.startsWith("close")).sort()).toEqual(["close A#1", "close B#2"]);
    expect(cache.size()).toBe(0);
  });

  it("refuses a size that is not a non-negative integer", () => {
    const {prepare} = fakes();
    expect(() => statementCache(prepare, -1)).toThrow("非负整数");
    expect(() => statementCache(prepare, 1.5)).toThrow("非负整数");
  });

  it("answers in DuckDB-WASM with a kept statement what a fresh one answers, for new values", async () => {
    const db = await startWasmNode();
    const conn = db.connect();
    conn.query(
      "CREATE TABLE t AS SELECT i, CAST(i % 7 AS VARCHAR) AS k, CAST(i AS DECIMAL(18, 2)) / 3 AS v FROM range(1000) r(i)"
    );
    const prepares: string[] = [];
    const cache = statementCache(async (text: string) => {
      prepares.push(text);
      const statement = conn.prepare(text);
      return {query: (...p: unknown[]) => statement.query(...p), close: async () => statement.close()};
    });
    const sql =
      "WITH s AS MATERIALIZED (SELECT * FROM t WHERE k = ?) SELECT k, count(*) AS n, sum(v) AS v FROM s WHERE i < ? GROUP BY k";
    for (const [k, below] of [
      ["1", 100],
      ["3", 500],
      ["1", 1000],
      ["9", 10]
    ] as const) {
      const kept = tableToRows(await cache.use(sql, async (s) => s.query(k, below)));
      const fresh = conn.prepare(sql);
      expect(kept, `${k} < ${below}`).toEqual(tableToRows(fresh.query(k, below)));
      fresh.close();
    }
    expect(prepares).toHaveLength(1);
  });
});
