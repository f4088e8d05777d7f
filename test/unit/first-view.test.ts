// The pre-baked first view (scripts/first-view.ts, src/duckdb/client.ts): a query is baked only when
// native DuckDB's rows equal the browser's exactly; the rows the page gets back from it are the
// browser's rows, value for value and type for type; the JSON written into the page survives any data
// string (`</script>`, line separators); a page's view is written, replaced and removed atomically.
import {createHash} from "node:crypto";
import {mkdtemp, readFile, rm, writeFile, mkdir} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import fc from "fast-check";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {LoggedQuery} from "../../src/duckdb/client.js";
import {FIRST_VIEW_ID, firstViewKey, firstViewRows} from "../../src/duckdb/first-view.js";
import {
  bakePage,
  bakeQuery,
  pageFile,
  readFirstView,
  scriptJson,
  writeFirstView
} from "../../scripts/first-view.js";

const logged = (rows: Record<string, unknown>[], over: Partial<LoggedQuery> = {}): LoggedQuery => ({
  sql: "SELECT 1",
  params: [],
  rows: rows as LoggedQuery["rows"],
  caller: "test",
  files: {fundwatch: "http://127.0.0.1:9/_file/data/fundwatch.0123abcd.duckdb"},
  ...over
});

describe("bakeQuery", () => {
  it("bakes rows equal to the browser's, and gives them back as the browser had them", () => {
    const day = new Date(Date.UTC(2024, 4, 10));
    const browser = [
      {county: "640104", n: 3, fen: 180000, day, note: null, ok: true},
      {county: "640105", n: 0, fen: 0, day: null, note: "复查", ok: false}
    ];
    const native = [
      {county: "640104", n: 3n, fen: 180000n, day, note: null, ok: true},
      {county: "640105", n: 0n, fen: 0n, day: null, note: "复查", ok: false}
    ];
    const entry = bakeQuery({query: logged(browser, {sql: "SELECT ?", params: ["640104"]}), native});
    if (typeof entry === "string") throw new Error(entry);
    expect(entry.columns).toEqual(["county", "n", "fen", "day", "note", "ok"]);
    expect(entry.dates).toEqual(["day"]);
    expect(entry.params).toEqual(["640104"]);
    const back = firstViewRows(JSON.parse(JSON.stringify(entry)) as typeof entry);
    expect(back).toEqual(browser);
    expect(back[0]!.day).toBeInstanceOf(Date);
  });

  it("refuses rows in another order, another count, other values or other float bits", () => {
    const a = {kind: "医院"};
    const b = {kind: "诊所"};
    expect(bakeQuery({query: logged([a, b]), native: [b, a]})).toMatch(/第 1 行列 kind 不同/);
    expect(bakeQuery({query: logged([a]), native: [a, b]})).toMatch(/原生 DuckDB 2 行，浏览器 1 行/);
    expect(bakeQuery({query: logged([{r: 0.1 + 0.2}]), native: [{r: 0.3}]})).toMatch(/列 r 不同/);
    expect(bakeQuery({query: logged([{n: 1}]), native: [{m: 1}]})).toMatch(/列不同/);
    // A date on one side and its milliseconds on the other are not the same value to the page.
    const day = new Date(Date.UTC(2024, 0, 1));
    expect(bakeQuery({query: logged([{d: day.getTime()}]), native: [{d: day}]})).toMatch(/列 d 不同/);
  });

  it("refuses values the page could not get back exactly", () => {
    const big = 2n ** 60n;
    expect(bakeQuery({query: logged([{n: Number(big)}]), native: [{n: big}]})).toMatch(/无法写入首屏数据/);
    expect(bakeQuery({query: logged([{x: {}}]), native: [{x: {a: 1}}]})).toMatch(/无法写入首屏数据/);
    expect(bakeQuery({query: logged([{x: Number.NaN}]), native: [{x: Number.NaN}]})).toMatch(
      /无法写入首屏数据/
    );
  });

  it("any rows of strings, numbers and nulls go through the page's JSON and back unchanged", () => {
    const cell = fc.oneof(
      fc.string(),
      fc.double({noNaN: true, noDefaultInfinity: true}),
      fc.integer(),
      fc.constant(null),
      fc.boolean()
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(cell, cell), {maxLength: 6}), (pairs) => {
        const rows = pairs.map(([x, y]) => ({x, y}));
        const entry = bakeQuery({query: logged(rows), native: rows});
        if (typeof entry === "string") throw new Error(entry);
        const html = `<script type="application/json" id="${FIRST_VIEW_ID}">${scriptJson(entry)}</script>`;
        expect(html.indexOf("</", 40)).toBe(html.lastIndexOf("</script>"));
        const text = /<script[^>]*>([^<]*)<\/script>/.exec(html)?.[1] ?? "";
        const back = firstViewRows(JSON.parse(text) as typeof entry);
        // -0 goes through JSON as 0; the page's figures cannot tell them apart either.
        expect(back.map((r) => [r.x, r.y].map((v) => (Object.is(v, -0) ? 0 : v)))).toEqual(
          rows.map((r) => [r.x, r.y].map((v) => (Object.is(v, -0) ? 0 : v)))
        );
      })
    );
  });
});

describe("scriptJson", () => {
  it("never lets data close the script element or break a line", () => {
    const hostile = {name: "</script><script>alert(1)</script>", note: "<!-- a & b \u2028\u2029 -->"};
    const text = scriptJson(hostile);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(hostile);
  });
});

describe("firstViewKey", () => {
  it("tells SQL text and parameters apart, parameter types included", () => {
    expect(firstViewKey("SELECT ?", ["1"])).not.toBe(firstViewKey("SELECT ?", [1]));
    expect(firstViewKey("SELECT ?", [1n])).toBe(firstViewKey("SELECT ?", ["1"]));
    expect(firstViewKey("SELECT ? ", [1])).not.toBe(firstViewKey("SELECT ?", [1]));
    expect(firstViewKey("SELECT 1", [])).toBe(firstViewKey("SELECT 1", []));
  });
});

describe("bakePage and writeFirstView", () => {
  let dist: string;
  const dataPath = "_file/data/fundwatch.0123abcd.duckdb";
  const base = "http://127.0.0.1:9/";
  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), "fw-first-view-"));
    await mkdir(join(dist, "_file/data"), {recursive: true});
    await writeFile(join(dist, dataPath), "not really a database");
    await mkdir(join(dist, "district"), {recursive: true});
  });
  afterAll(async () => {
    await rm(dist, {recursive: true, force: true});
  });

  it("bakes the queries on the site's data file, once each, and names the others", async () => {
    const rows = [{n: 1}];
    const other = logged(rows, {sql: "SELECT 2", files: {fundwatch: `${base}_file/data/other.duckdb`}});
    const page = await bakePage(
      [
        {query: logged(rows, {files: {fundwatch: `${base}${dataPath}`}}), native: rows},
        {query: logged(rows, {files: {fundwatch: `${base}${dataPath}`}}), native: rows},
        {query: other, native: rows},
        {
          query: logged([{k: "a"}, {k: "b"}], {
            sql: "SELECT DISTINCT k",
            files: {fundwatch: `${base}${dataPath}`}
          }),
          native: [{k: "b"}, {k: "a"}]
        }
      ],
      {dist, baseUrl: base, dataPath}
    );
    expect(page.view?.queries.map((q) => q.sql)).toEqual(["SELECT 1"]);
    expect(page.view?.files).toEqual({fundwatch: dataPath});
    expect(page.view?.sha256.fundwatch).toBe(
      createHash("sha256").update("not really a database").digest("hex")
    );
    expect(page.skipped.map((s) => [s.sql, s.reason])).toEqual([
      ["SELECT 2", "不是站点自己的数据文件上的查询"],
      ["SELECT DISTINCT k", expect.stringMatching(/第 1 行列 k 不同/)]
    ]);
  });

  it("keeps within the size limit, smallest answers first, and says what it left out", async () => {
    const url = `${base}${dataPath}`;
    const big = Array.from({length: 200}, (_, i) => ({i}));
    const page = await bakePage(
      [
        {query: logged(big, {sql: "SELECT big", files: {fundwatch: url}}), native: big},
        {query: logged([{i: 1}], {sql: "SELECT small", files: {fundwatch: url}}), native: [{i: 1}]}
      ],
      {dist, baseUrl: base, dataPath, limit: 500}
    );
    expect(page.view?.queries.map((q) => q.sql)).toEqual(["SELECT small"]);
    expect(page.skipped).toEqual([{sql: "SELECT big", caller: "", reason: "首屏数据超过 500 字符的上限"}]);
    const none = await bakePage(
      [{query: logged(big, {sql: "SELECT big", files: {fundwatch: url}}), native: big}],
      {dist, baseUrl: base, dataPath, limit: 10}
    );
    expect(none.view).toBeNull();
  });

  it("writes the view into <head>, replaces it, and removes it", async () => {
    const file = pageFile(dist, "/district/640104");
    expect(file).toBe(join(dist, "district/640104.html"));
    expect(pageFile(dist, "/")).toBe(join(dist, "index.html"));
    const html = `<!doctype html><html><head><title>x</title></head><body><p>正文</p></body></html>`;
    await writeFile(file, html);
    const rows = [{name: "</script><b>x</b>"}];
    const page = await bakePage(
      [{query: logged(rows, {files: {fundwatch: `${base}${dataPath}`}}), native: rows}],
      {dist, baseUrl: base, dataPath}
    );
    await writeFirstView(file, page.view);
    const once = await readFile(file, "utf-8");
    expect(once.indexOf(`id="${FIRST_VIEW_ID}"`)).toBeLessThan(once.indexOf("</head>"));
    expect(once.match(/<\/script>/g)).toHaveLength(1);
    expect(await readFirstView(file)).toEqual(page.view);
    await writeFirstView(file, page.view);
    expect(await readFile(file, "utf-8")).toBe(once);
    await writeFirstView(file, null);
    expect(await readFile(file, "utf-8")).toBe(html);
    expect(await readFirstView(file)).toBeNull();
    await writeFile(file, "<p>no head</p>");
    await expect(writeFirstView(file, page.view)).rejects.toThrow(/没有 <\/head>/);
    expect(await readFile(file, "utf-8")).toBe("<p>no head</p>");
  });
});
