import {mkdtemp, rm, writeFile, mkdir, copyFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Writable} from "node:stream";
import {DuckDBInstance} from "@duckdb/node-api";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {readCsv} from "../../loaders/csv.js";
import {writeDuckDBFile} from "../../loaders/duckdb-file.js";
import {buildDatabaseTo, readInputs} from "../../loaders/fundwatch-db.js";
import {parseAmount} from "../../src/parse/amount.js";

const DEFAULT_DIR = join(import.meta.dirname, "..", "..", "data", "yinchuan-2018");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-test-"));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

async function inputDir(name: string, recoveries: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(path, {recursive: true});
  await copyFile(join(DEFAULT_DIR, "units.csv"), join(path, "units.csv"));
  await writeFile(join(path, "recoveries.csv"), recoveries);
  return path;
}

describe("readInputs(dir) on the embedded default data", () => {
  it("loads every unit and every published amount, rejecting nothing", async () => {
    const result = await readInputs(DEFAULT_DIR);
    expect(result.units).toHaveLength(10);
    expect(result.recoveries).toHaveLength(6);
    expect(result.rejects).toEqual([]);
    expect(result.units.find((u) => u.code === "6401ND")).toMatchObject({
      kind: "zone",
      parent_code: "640100"
    });
  });
  it("totals exactly the sum of the amounts as written in the file (independent re-parse)", async () => {
    const result = await readInputs(DEFAULT_DIR);
    const csv = await readCsv(join(DEFAULT_DIR, "recoveries.csv"));
    const column = csv.header.indexOf("金额");
    const independent = csv.rows.reduce((sum, {cells}) => {
      const r = parseAmount(cells[column]!);
      if (!r.ok) throw new Error(r.reason);
      return sum + r.fen;
    }, 0n);
    const loaded = result.recoveries.reduce((sum, r) => sum + r.amount_fen, 0n);
    expect(loaded).toBe(independent);
    expect(loaded).toBe(236_261_347n);
  });
});

describe("readInputs(dir) on bad input", () => {
  it("keeps every rejected row with file, line, column, value and reason; rows read = loaded + rejected", async () => {
    const path = await inputDir(
      "bad",
      [
        "单位编码,处理方式,金额,期间,备注",
        "640105,追回,24253.33,2018年,",
        "640105,追回,,2018年,blank amount",
        "640105,追回,约1.8万,2018年,vague",
        "999999,追回,100,2018年,unknown unit",
        "640105,没收,100,2018年,unknown action",
        "640105,追回,-5,2018年,negative",
        ""
      ].join("\n")
    );
    const result = await readInputs(path);
    const rec = result.inputs.find((i) => i.file === "recoveries.csv")!;
    expect(rec).toMatchObject({rows_read: 6, rows_loaded: 1, rows_rejected: 5});
    expect(rec.rows_read).toBe(rec.rows_loaded + rec.rows_rejected);
    expect(result.rejects.map((r) => [r.line, r.column])).toEqual([
      [3, "金额"],
      [4, "金额"],
      [5, "单位编码"],
      [6, "处理方式"],
      [7, "金额"]
    ]);
    expect(result.rejects[0]).toEqual({
      file: "recoveries.csv",
      line: 3,
      column: "金额",
      value: "",
      reason: "金额为空"
    });
    expect(result.rejects[2]!.reason).toMatch(/未知单位/);
    expect(result.rejects[4]!.reason).toMatch(/负/);
  });
  it("fails the whole file, naming the column, when a required header is missing", async () => {
    const path = await inputDir("missing", "单位编码,处理方式,期间,备注\n640105,追回,2018年,\n");
    await expect(readInputs(path)).rejects.toThrow(/recoveries\.csv.*缺少必需的列「金额」/);
  });
  it("accepts a header with a UTF-8 BOM and columns in another order", async () => {
    const path = await inputDir(
      "bom",
      "\uFEFF金额,单位编码,期间,备注,处理方式\n38513.22,640106,2018年,,追回\n"
    );
    const result = await readInputs(path);
    expect(result.recoveries).toEqual([
      {
        unit_code: "640106",
        action: "追回",
        amount_fen: 3_851_322n,
        stated_as: "38513.22",
        period: "2018年",
        note: ""
      }
    ]);
  });
});

describe("readCsv(path) decodes what districts send", () => {
  it("reads GBK/GB18030 files without mojibake", async () => {
    // "单位编码,金额\n银川,1\n" in GBK: 银 = D2 F8, 川 = B4 A8.
    const bytes = Buffer.concat([
      Buffer.from([0xb5, 0xa5, 0xce, 0xbb, 0xb1, 0xe0, 0xc2, 0xeb]),
      Buffer.from(",a\n"),
      Buffer.from([0xd2, 0xf8, 0xb4, 0xa8]),
      Buffer.from(",1\n")
    ]);
    const path = join(dir, "gbk.csv");
    await writeFile(path, bytes);
    const csv = await readCsv(path);
    expect(csv.encoding).toBe("gb18030");
    expect(csv.header).toEqual(["单位编码", "a"]);
    expect(csv.rows).toEqual([{line: 2, cells: ["银川", "1"]}]);
  });
});

describe("writeDuckDBFile(path, tables)", () => {
  it("writes a database file that DuckDB reads back exactly, with money as BIGINT fen", async () => {
    const path = join(dir, "out.duckdb");
    await writeDuckDBFile(path, [
      {
        name: "t",
        columns: [
          {name: "name", type: "VARCHAR"},
          {name: "amount_fen", type: "BIGINT"},
          {name: "n", type: "INTEGER"}
        ],
        rows: [
          ["金凤区", 3_851_322n, 1],
          ["<img src=x onerror=alert(1)>", 1n, null]
        ]
      }
    ]);
    const instance = await DuckDBInstance.create(path, {access_mode: "READ_ONLY"});
    const conn = await instance.connect();
    try {
      const rows = (
        await conn.runAndReadAll("SELECT name, amount_fen, n FROM t ORDER BY amount_fen")
      ).getRowObjects();
      expect(rows).toEqual([
        {name: "<img src=x onerror=alert(1)>", amount_fen: 1n, n: null},
        {name: "金凤区", amount_fen: 3_851_322n, n: 1}
      ]);
      const types = (
        await conn.runAndReadAll(
          "SELECT data_type FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position"
        )
      ).getRowObjects();
      expect(types.map((t) => t.data_type)).toEqual(["VARCHAR", "BIGINT", "INTEGER"]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
  it("leaves no file behind when writing fails", async () => {
    const path = join(dir, "fail.duckdb");
    await expect(
      writeDuckDBFile(path, [{name: "t", columns: [{name: "a", type: "VARCHAR"}], rows: [["x", "extra"]]}])
    ).rejects.toThrow(/列/);
    const {readdir} = await import("node:fs/promises");
    expect((await readdir(dir)).filter((f) => f.startsWith("fail.duckdb"))).toEqual([]);
  });
});

describe("buildDatabaseTo(stdout, root): the data loader", () => {
  it("writes the database bytes to its output and nothing else", async () => {
    const chunks: Buffer[] = [];
    const out = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      }
    });
    await buildDatabaseTo(out, join(import.meta.dirname, "..", ".."));
    const bytes = Buffer.concat(chunks);
    const path = join(dir, "loader.duckdb");
    await writeFile(path, bytes);
    const instance = await DuckDBInstance.create(path, {access_mode: "READ_ONLY"});
    const conn = await instance.connect();
    try {
      const [row] = (
        await conn.runAndReadAll("SELECT sum(amount_fen)::BIGINT AS total FROM recoveries")
      ).getRowObjects();
      expect(row).toEqual({total: 236_261_347n});
      const tables = (
        await conn.runAndReadAll("SELECT table_name FROM information_schema.tables ORDER BY 1")
      ).getRowObjects();
      expect(tables.map((t) => t.table_name)).toEqual(["inputs", "meta", "recoveries", "rejects", "units"]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
