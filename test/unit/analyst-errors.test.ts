// The mistakes an analyst makes in a page — an unknown table, column or function, a syntax error, a
// value of the wrong type, a malformed filter, an unknown metric or level — come back as a Chinese
// message naming the mistake, not a stack trace. The SQL errors go through the page's own query code
// (`sqlClient` in src/duckdb/client.ts, which `openDatabase` wraps around DuckDB-WASM) over native
// DuckDB and over DuckDB-WASM's Node build (the site's .wasm files), on the default data.
import {mkdtemp, readFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";
import {tsImport} from "tsx/esm/api";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {writeDuckDBFile} from "../../loaders/duckdb-file.js";
import {ingest} from "../../loaders/ingest.js";
import {generationTime, toTables} from "../../loaders/outputs.js";
import {tableToRows, bigintToNumber, type Row} from "../../src/duckdb/convert.js";
import {
  METRICS,
  metricById,
  metricByDivision,
  metricReference,
  rankDivisions,
  scopeData,
  scopeSql,
  type MetricData,
  type MetricFilter
} from "../../src/metrics/index.js";
import {checkFilter, checkLevel, closestName, editDistance, FILTER_KEYS} from "../../src/metrics/scope.js";
import type {SqlQuery, SqlValue} from "../../src/sql/template.js";
import type * as ClientModule from "../../src/duckdb/client.js";
import {startWasmNode, type WasmConnection} from "../support/duckdb-wasm-node.js";

const ROOT = resolve(import.meta.dirname, "..", "..");

/**
 * src/duckdb/client.ts, loaded through Node's own loader (tsx): it calls `import.meta.resolve`,
 * which vitest's module runner does not provide.
 */
let client: typeof ClientModule;

type Client = ReturnType<typeof client.sqlClient>;
/** The engines, each behind the page's query code. */
const engines: {name: string; db: Client}[] = [];
let mvpDb: Client;
let data: MetricData;
let dir: string;
const closers: (() => void)[] = [];

/** DuckDB-WASM's blocking Node build on the site's .wasm files, with the default data attached. */
async function startWasm(only: "mvp" | "eh", bytes: Uint8Array): Promise<WasmConnection> {
  const db = await startWasmNode(only === "mvp" ? "mvp" : undefined);
  db.registerFileBuffer("fundwatch.duckdb", bytes);
  const conn = db.connect();
  // As startDuckDB: no extension is installed or loaded.
  conn.query("SET autoinstall_known_extensions = false");
  conn.query("SET autoload_known_extensions = false");
  conn.query("ATTACH 'fundwatch.duckdb' AS fundwatch (READ_ONLY)");
  conn.query("USE fundwatch");
  return conn;
}

/** The page's runner (openDatabase's), over a DuckDB-WASM connection. */
function wasmRun(conn: WasmConnection) {
  return async (text: string, params: readonly SqlValue[]): Promise<Row[]> => {
    if (params.length === 0) return tableToRows(conn.query(text));
    const statement = conn.prepare(text);
    try {
      return tableToRows(statement.query(...params));
    } finally {
      statement.close();
    }
  };
}

beforeAll(async () => {
  client = (await tsImport(join(ROOT, "src", "duckdb", "client.ts"), import.meta.url)) as typeof client;
  const result = await ingest([join(ROOT, "data", "ningxia")], {today: "2024-12-31"});
  data = {
    ...Object.fromEntries(
      ["divisions", "campaigns", "institutions", "inspections", "findings", "dispositions"].map((name) => [
        name,
        (result.tables.get(name) ?? []).map((r) =>
          Object.fromEntries(
            Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? bigintToNumber(v, k) : v])
          )
        )
      ])
    ),
    calendar: result.calendar.rows
  } as unknown as MetricData;
  dir = await mkdtemp(join(tmpdir(), "fundwatch-analyst-errors-"));
  const file = join(dir, "fundwatch.duckdb");
  await writeDuckDBFile(file, toTables(result, {source: "test", generatedAt: generationTime()}));

  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  await conn.run(`ATTACH '${file}' AS fundwatch (READ_ONLY); USE fundwatch`);
  closers.push(() => (conn.closeSync(), instance.closeSync()));
  engines.push({
    name: "native DuckDB",
    db: client.sqlClient(async (text, params) => {
      const reader = await conn.runAndReadAll(text, params.length ? (params as never) : undefined);
      return reader.getRowObjectsJS() as Row[];
    })
  });
  const bytes = new Uint8Array(await readFile(file));
  engines.push({name: "DuckDB-WASM eh", db: client.sqlClient(wasmRun(await startWasm("eh", bytes)))});
  mvpDb = client.sqlClient(wasmRun(await startWasm("mvp", bytes)));
}, 120_000);

afterAll(async () => {
  for (const close of closers) close();
  if (dir) await rm(dir, {recursive: true, force: true});
});

/** The error a query fails with (the test fails if it does not). */
async function failure(db: Client, query: SqlQuery | Promise<unknown>): Promise<Error> {
  const running = "text" in query ? db.query(query) : query;
  const outcome = await running.then(
    () => null,
    (error: unknown) => error
  );
  expect(outcome, "the query should fail").toBeInstanceOf(Error);
  return outcome as Error;
}
const q = (text: string, params: SqlValue[] = []): SqlQuery => ({text, params});
/** The Chinese explanation: the message before `原始错误`, `SQL：`. */
const head = (error: Error) => error.message.split(/\n原始错误：|\n\nSQL：/)[0] ?? "";

describe.each(["native DuckDB", "DuckDB-WASM eh"])("SQL mistakes in %s", (name) => {
  const db = () => engines.find((e) => e.name === name)!.db;

  it("an unknown table: names it, suggests the closest and lists the tables there are", async () => {
    const error = await failure(db(), q("SELECT * FROM instituions"));
    expect(error).toBeInstanceOf(client.QueryError);
    const [first, where] = error.message.split("\n");
    expect(first).toMatch(/^没有名为「instituions」的表。您是不是要用「institutions」？可用的表：/);
    for (const table of ["divisions", "institutions", "inspections", "findings", "dispositions", "meta"])
      expect(first!.split("可用的表：")[1]!.split("、")).toContain(table);
    expect(where).toBe("位置（第 1 行）：SELECT * FROM instituions");
    expect(error.message).toMatch(/\n原始错误：Catalog Error: Table with name instituions does not exist!/);
    expect(error.message).toMatch(/\n\nSQL：SELECT \* FROM instituions$/);
    // Nothing close: no guess (DuckDB's own guess is a far-off name), the list still.
    const far = await failure(db(), q("SELECT * FROM 检查记录"));
    expect(head(far)).toMatch(/^没有名为「检查记录」的表。可用的表：.*inspections/);
    expect(head(far)).not.toMatch(/您是不是/);
  });

  it("an unknown column: names it and DuckDB's candidates, in each of DuckDB's forms", async () => {
    expect(head(await failure(db(), q("SELECT kindd FROM institutions")))).toMatch(
      /^没有名为「kindd」的列。相近的列：kind(、|。)/
    );
    expect(head(await failure(db(), q("SELECT i.kindd FROM institutions AS i")))).toMatch(
      /^表「i」没有名为「kindd」的列。相近的列：kind/
    );
    expect(head(await failure(db(), q("SELECT t.x FROM (VALUES (1)) AS t(a)")))).toBe(
      "VALUES 列表「t」没有名为「x」的列。\n位置（第 1 行）：SELECT t.x FROM (VALUES (1)) AS t(a)"
    );
    expect(head(await failure(db(), q("SELECT x.kind FROM institutions")))).toMatch(
      /^「x\.…」中的「x」不是 FROM 里的表名或别名。可用的：institutions。/
    );
    // A value in double quotes is a column name to SQL.
    expect(head(await failure(db(), q(`SELECT count(*) FROM inspections WHERE kind = "专项检查"`)))).toMatch(
      /^没有名为「专项检查」的列。如果「专项检查」是一个值而不是列名，请用英文单引号：'专项检查'/
    );
    // A Chinese comma makes one name of two.
    expect(head(await failure(db(), q("SELECT kind，code FROM institutions")))).toMatch(
      /^没有名为「kind，code」的列。其中有中文标点.*「，」→「,」/
    );
    expect(head(await failure(db(), q("SELECT kind FROM institutions GROUP BY code")))).toMatch(
      /^列「kind」既不在 GROUP BY 中.*any_value\(kind\)/
    );
  });

  it("a syntax error: names the token, the line of the SQL and a misspelt keyword", async () => {
    const form = await failure(db(), q("SELECT * FORM institutions"));
    expect(head(form)).toBe(
      "SQL 语法错误：在「institutions」附近。「FORM」是不是「FROM」？\n位置（第 1 行）：SELECT * FORM institutions"
    );
    const where = await failure(db(), q("SELECT kind\nFROM institutions\nWHER kind = '医院'"));
    expect(head(where)).toBe(
      "SQL 语法错误：在「kind」附近。「WHER」是不是「WHERE」？\n位置（第 3 行）：WHER kind = '医院'"
    );
    // With bound parameters (a prepared statement) too.
    const prepared = await failure(db(), q("SELECT * FROM inspections WHERE kind = ? GRUOP BY kind", ["x"]));
    expect(head(prepared)).toMatch(/^SQL 语法错误：在「GRUOP」附近。「GRUOP」是不是「GROUP」？/);
    expect(prepared.message).toMatch(/参数：\["x"\]$/);
    expect(head(await failure(db(), q("SELECT * FROM institutions ORDER kind")))).toMatch(
      /「ORDER」后面要跟「BY」/
    );
    expect(head(await failure(db(), q("SELECT * FROM institutions WHERE kind IN ('医院', '诊所'")))).toMatch(
      /^SQL 语法错误：语句没写完就结束了（末尾缺少内容，或括号、引号没有配对）。左括号比右括号多 1 个。/
    );
    expect(head(await failure(db(), q("SELECT * FROM institutions WHERE kind = '医院")))).toMatch(
      /^SQL 语法错误：引号没有配对，从「'医院」开始缺少结束的引号。/
    );
  });

  it("a value of the wrong type: names the value, the column and the types", async () => {
    expect(head(await failure(db(), q("SELECT * FROM inspections WHERE date > 20240501")))).toMatch(
      /^类型不符：不能比较 DATE（日期）和 INTEGER_LITERAL（整数）。日期请写作带引号的 '2024-05-15'/
    );
    expect(head(await failure(db(), q("SELECT * FROM inspections WHERE date >= 'abc'")))).toMatch(
      /^类型不符：「abc」不是日期。日期请写作 'YYYY-MM-DD'/
    );
    expect(
      head(await failure(db(), q("SELECT * FROM inspections WHERE date >= CAST(? AS DATE)", ["2024-02-30"])))
    ).toMatch(/^「2024-02-30」不是存在的日期/);
    // A text where a number is needed, bound as a page's ${value} is.
    const bound = await failure(db(), q("SELECT * FROM inspections WHERE bills_reviewed = ?", ["很多"]));
    expect(head(bound)).toMatch(/^类型不符：「很多」不能转换为 INT\d+（整数）/);
    // A number compared with a text column.
    expect(head(await failure(db(), q("SELECT * FROM institutions WHERE kind = 1")))).toMatch(
      /^类型不符：列「kind」是文本，其中的「[^」]+」不能转换为 INT32（整数）。.*kind = '/
    );
    expect(head(await failure(db(), q("SELECT sum(kind) FROM institutions")))).toMatch(
      /^函数参数类型不符：不能这样调用 sum\(VARCHAR\)。可用的写法：sum\(DECIMAL\)/
    );
  });

  it("an unknown function: names it and DuckDB's guess", async () => {
    expect(head(await failure(db(), q("SELECT summ(amount) FROM dispositions")))).toMatch(
      /^没有名为「summ」的函数。您是不是要用「sum」？/
    );
  });

  it("shows the message alone in the page: String(error) is the Chinese text, no class name, no stack", async () => {
    const error = await failure(db(), db().sql`SELECT * FROM instituions WHERE kind = ${"医院"}`);
    expect(String(error)).toBe(error.message);
    expect(String(error)).toMatch(/^没有名为「instituions」的表/);
    expect(String(error)).not.toMatch(/QueryError|Error:\s*没有|\bat .+:\d+:\d+/);
    expect(error.message).toMatch(/\nSQL：SELECT \* FROM instituions WHERE kind = \?\n参数：\["医院"\]$/);
    expect((error as InstanceType<typeof client.QueryError>).sql).toBe(
      "SELECT * FROM instituions WHERE kind = ?"
    );
  });
});

describe("what only one engine gives", () => {
  it("DuckDB-WASM: a query that needs an extension keeps its message, naming the extension", async () => {
    const wasm = engines.find((e) => e.name === "DuckDB-WASM eh")!.db;
    const error = await failure(wasm, q("SELECT * FROM read_parquet('x.parquet')"));
    expect(error.message).toMatch(
      /^查询失败：此查询需要 DuckDB 扩展 parquet，离线站点不加载任何扩展。原始错误：/
    );
  });

  it("the mvp build (older browsers): the mistake named, or a Chinese notice that it cannot say", async () => {
    const error = await failure(mvpDb, q("SELECT * FROM instituions"));
    expect(head(error)).toMatch(
      /^(没有名为「instituions」的表|查询失败：此浏览器所用的 DuckDB 兼容版本（mvp）未能报告出错原因)/
    );
  });

  it("anything else: 查询失败 and DuckDB's text", () => {
    expect(client.describeDuckDBError(new Error("Out of Memory Error: failed to allocate"))).toBe(
      "查询失败：Out of Memory Error: failed to allocate"
    );
  });

  it("a BIGINT parameter does not break the message", () => {
    const error = new client.QueryError("查询失败：x", "SELECT ?", [2n ** 60n]);
    expect(error.message).toBe(`查询失败：x\n\nSQL：SELECT ?\n参数：["${2n ** 60n}"]`);
  });
});

/** The message a metric call over the page's db rejects with. */
async function refusal(call: () => Promise<unknown>): Promise<string> {
  const outcome = await call().then(
    () => null,
    (error: unknown) => error
  );
  expect(outcome, "the call should be refused").toBeInstanceOf(Error);
  return (outcome as Error).message;
}

describe("filters of the wrong shape, through metricByDivision on the page's db", () => {
  const db = () => engines[0]!.db;
  const refused = (filter: unknown) =>
    refusal(() => metricByDivision(db(), "coverage", {level: "市", filter: filter as MetricFilter}));

  it("dates: not YYYY-MM-DD text, or not a day of the calendar", async () => {
    expect(await refused({from: "2024/05/15"})).toBe(
      `筛选条件 from 应为 YYYY-MM-DD 格式的日期文本，例如 "2024-05-15"；收到 "2024/05/15"（文本）`
    );
    expect(await refused({to: 20240515})).toMatch(/^筛选条件 to 应为 YYYY-MM-DD .*收到 20240515（数字）$/);
    expect(await refused({from: new Date(Date.UTC(2024, 4, 15))})).toMatch(
      /^筛选条件 from 应为 YYYY-MM-DD .*收到 Date 对象 .*，请写成 "2024-05-15"$/
    );
    expect(await refused({to: "2024-02-30"})).toBe(
      "筛选条件 to 的日期「2024-02-30」不存在（月份应为 01–12，日期不超过当月天数）"
    );
    expect(await refused({from: "2024-13-01"})).toMatch(/「2024-13-01」不存在/);
    expect(await refused({from: null})).toBe("筛选条件 from 为 null：不加限制时请省略该项");
  });

  it("kind lists: a bare text, a non-text item, an empty list", async () => {
    expect(await refused({institutionKinds: "医院"})).toBe(
      `筛选条件 institutionKinds 应为数组，例如 ["医院"]；收到 "医院"（文本），请写成 ["医院"]`
    );
    expect(await refused({institutionKinds: "医院,诊所"})).toMatch(/请写成 \["医院","诊所"\]$/);
    expect(await refused({inspectionKinds: "飞行检查"})).toBe(
      `筛选条件 inspectionKinds 应为数组，例如 ["专项检查"]；收到 "飞行检查"（文本），请写成 ["飞行检查"]`
    );
    expect(await refused({inspectionKinds: ["专项检查", 3]})).toBe(
      `筛选条件 inspectionKinds 的第 2 项应为文本，例如 "专项检查"；收到 3（数字）`
    );
    expect(await refused({institutionKinds: new Set(["医院"])})).toMatch(/应为数组.*收到 Set \["医院"\]/);
    expect(await refused({institutionKinds: []})).toMatch(/^筛选条件 institutionKinds 为空列表/);
  });

  it("an unknown key: names it and the key meant", async () => {
    expect(await refused({institutionKind: ["医院"]})).toBe(
      `筛选条件没有「institutionKind」这一项，您是不是要用「institutionKinds」？可用的筛选条件：${FILTER_KEYS.join("、")}`
    );
    expect(await refused({city: "640100"})).toMatch(/^筛选条件没有「city」这一项，您是不是要用「within」？/);
    expect(await refused({form: "2024-05-15"})).toMatch(/您是不是要用「from」？/);
    expect(await refused({zzz: 1})).toMatch(/^筛选条件没有「zzz」这一项。可用的筛选条件：from、to/);
  });

  it("campaign and within: their types and the division code format", async () => {
    expect(await refused({campaign: ["ZX2024"]})).toBe(
      `筛选条件 campaign 应为一个专项行动编号（文本），例如 "ZX2024"；收到 数组 ["ZX2024"]`
    );
    expect(await refused({within: 640100})).toBe(
      `筛选条件 within 应为 6 位区划编码（文本），例如 "640100"（银川市）；收到 640100（数字），请写成文本 "640100"`
    );
    expect(await refused({within: "银川市"})).toMatch(/收到 "银川市"（文本）：请用区划编码，不是区划名称$/);
    expect(await refused({within: "6401"})).toMatch(/^筛选条件 within 应为 6 位区划编码/);
  });

  it("a filter that is not an object", async () => {
    for (const bad of ["医院", ["医院"], 3, null])
      expect(await refused(bad)).toMatch(
        /^筛选条件应为对象，例如 \{from: "2024-05-15", institutionKinds: \["医院"\]\}；收到 /
      );
  });

  it("the JS reference refuses the same filters with the same messages", () => {
    const filter = {institutionKinds: "医院"} as unknown as MetricFilter;
    expect(() => scopeData(data, filter)).toThrow(/筛选条件 institutionKinds 应为数组，例如 \["医院"\]/);
    expect(() => scopeSql(filter)).toThrow(/筛选条件 institutionKinds 应为数组，例如 \["医院"\]/);
  });

  it("valid filters work as before, whatever their form (6401ND, an unknown code, from after to)", async () => {
    const valid: MetricFilter[] = [
      {},
      {from: "2024-05-15", to: "2024-08-31", institutionKinds: ["医院"], campaign: "ZX2024"},
      {within: "6401ND", inspectionKinds: ["专项检查", "飞行检查"]},
      {within: "999999"},
      {from: "2024-09-01", to: "2024-06-01"},
      {from: undefined, within: undefined}
    ];
    for (const filter of valid) {
      expect(() => checkFilter(filter)).not.toThrow();
      const rows = await metricByDivision(db(), "coverage", {level: "县", filter});
      expect(rows).toEqual(metricReference(metricById("coverage"), data, {level: "县", filter}));
    }
  });
});

describe("unknown metrics and levels", () => {
  const db = () => engines[0]!.db;

  it("an unknown metric id: the closest id, a Chinese name's id, and every valid id", async () => {
    const all = METRICS.map((m) => `${m.id}（${m.name}）`).join("、");
    expect(await refusal(() => metricByDivision(db(), "coverge"))).toBe(
      `没有指标「coverge」。您是不是要用「coverage」？可用的指标：${all}`
    );
    expect(await refusal(() => metricByDivision(db(), "检查覆盖率"))).toBe(
      `没有指标「检查覆盖率」。「检查覆盖率」是指标名称，请用它的 id「coverage」。可用的指标：${all}`
    );
    expect(() => metricById("recovery-ratio")).toThrow(/您是不是要用「recovery_ratio」？/);
    expect(() => metricById("nonsense")).toThrow(
      new RegExp(`^没有指标「nonsense」。可用的指标：coverage（检查覆盖率）`)
    );
    expect(all).toContain("big_case_timeliness（");
    // No metric at all, or not a metric: named, not a TypeError from deep inside.
    expect(await refusal(() => metricByDivision(db(), undefined as unknown as string))).toMatch(
      /^指标应为指标编号（文本，例如 "coverage"）或 metricById\(…\) 的结果；收到 undefined（是否忘了传指标？）/
    );
    expect(await refusal(() => metricByDivision(db(), 3 as unknown as string))).toMatch(/收到 3$/);
  });

  it("a level other than 省, 市, 县: in metricByDivision, metricReference and rankDivisions", async () => {
    expect(await refusal(() => metricByDivision(db(), "coverage", {level: "city" as never}))).toBe(
      `层级 level 应为 "省"、"市" 或 "县"；收到 "city"（文本），您是不是要用「市」？`
    );
    expect(await refusal(() => metricByDivision(db(), "coverage", {level: "区县" as never}))).toMatch(
      /收到 "区县"（文本），您是不是要用「县」？$/
    );
    expect(await refusal(() => rankDivisions(db(), {level: "town" as never}))).toBe(
      `层级 level 应为 "省"、"市" 或 "县"；收到 "town"（文本）`
    );
    expect(() => metricReference(metricById("coverage"), data, {level: 2 as never})).toThrow(
      /收到 2（数字）/
    );
    for (const level of ["省", "市", "县"] as const) expect(() => checkLevel(level)).not.toThrow();
  });
});

describe("the documented examples of src/metrics/scope.ts", () => {
  it("hold", () => {
    expect(closestName("coverge", ["coverage", "fines"])).toBe("coverage");
    expect(closestName("xyz", ["coverage", "fines"])).toBeUndefined();
    expect(editDistance("FORM", "FROM")).toBe(1);
    expect(editDistance("coverge", "coverage")).toBe(1);
    expect(() => checkFilter({institutionKinds: "医院"} as never)).toThrow(
      new TypeError(`筛选条件 institutionKinds 应为数组，例如 ["医院"]；收到 "医院"（文本），请写成 ["医院"]`)
    );
    expect(() => checkLevel("city" as never)).toThrow(
      new RangeError(`层级 level 应为 "省"、"市" 或 "县"；收到 "city"（文本），您是不是要用「市」？`)
    );
    expect(scopeSql({from: "2024-05-15", institutionKinds: ["医院"]}).params).toEqual(["医院", "2024-05-15"]);
  });
});
