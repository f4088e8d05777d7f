import {DuckDBInstance} from "@duckdb/node-api";
import {describe, expect, it} from "vitest";
import {ident, sqlQuery} from "../../src/sql/template.js";

describe("sqlQuery`...` builds text with placeholders", () => {
  it("binds every interpolated value as a parameter", () => {
    const code = "640104";
    expect(sqlQuery`SELECT * FROM units WHERE code = ${code} AND level = ${"county"}`).toEqual({
      text: "SELECT * FROM units WHERE code = ? AND level = ?",
      params: ["640104", "county"]
    });
  });
  it("expands arrays for IN lists and refuses empty ones", () => {
    expect(sqlQuery`SELECT 1 WHERE x IN ${[1, 2, 3]}`).toEqual({
      text: "SELECT 1 WHERE x IN (?, ?, ?)",
      params: [1, 2, 3]
    });
    expect(() => sqlQuery`SELECT 1 WHERE x IN ${[]}`).toThrow(/空数组/);
  });
  it("quotes identifiers made by ident()", () => {
    expect(sqlQuery`SELECT ${ident('a"b')} FROM ${ident("金额")}`.text).toBe('SELECT "a""b" FROM "金额"');
  });
  it("turns undefined into NULL and Dates into ISO text; refuses other objects", () => {
    expect(sqlQuery`${undefined}, ${new Date(Date.UTC(2024, 4, 10))}`.params).toEqual([
      null,
      "2024-05-10T00:00:00.000Z"
    ]);
    expect(() => sqlQuery`${{a: 1}}`).toThrow(/不受支持/);
    expect(() => sqlQuery`${Number.NaN}`).toThrow(/有限数值/);
  });
});

describe("sqlQuery runs in DuckDB with bound parameters", () => {
  it("returns the matching row and treats an injection attempt as a plain value", async () => {
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    try {
      await conn.run("CREATE TABLE units (code VARCHAR, name VARCHAR)");
      await conn.run("INSERT INTO units VALUES ('640104', '兴庆区'), ('640105', '西夏区')");
      const run = async (q: {text: string; params: readonly unknown[]}) =>
        (await conn.runAndReadAll(q.text, q.params as never)).getRowObjects();
      expect(await run(sqlQuery`SELECT name FROM units WHERE code = ${"640105"}`)).toEqual([
        {name: "西夏区"}
      ]);
      const attack = "x'; DROP TABLE units; --";
      expect(await run(sqlQuery`SELECT name FROM units WHERE code = ${attack}`)).toEqual([]);
      expect(
        await run(
          sqlQuery`SELECT count(*)::INTEGER AS n FROM ${ident("units")} WHERE code IN ${["640104", "640105"]}`
        )
      ).toEqual([{n: 2}]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
