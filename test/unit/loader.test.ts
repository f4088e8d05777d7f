// The site's data loader reads the folder FUNDWATCH_DATA_DIR names (default data/ningxia) and writes
// the database file to stdout; a structural problem in the inputs fails it, so the build fails.
import {mkdtemp, mkdir, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {PassThrough} from "node:stream";
import {DuckDBInstance} from "@duckdb/node-api";
import {afterAll, afterEach, beforeAll, describe, expect, it} from "vitest";
import {buildDatabaseTo, inputDirectory} from "../../loaders/fundwatch-db.js";

const ROOT = join(import.meta.dirname, "..", "..");
let dir: string;
const saved = {...process.env};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-loader-"));
});
afterEach(() => {
  for (const key of ["FUNDWATCH_DATA_DIR", "FUNDWATCH_DATA_SOURCE", "SOURCE_DATE_EPOCH", "FUNDWATCH_GATES"]) {
    if (saved[key] === undefined) Reflect.deleteProperty(process.env, key);
    else process.env[key] = saved[key];
  }
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

async function runLoader(): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  await buildDatabaseTo(out, ROOT);
  return Buffer.concat(chunks);
}

async function query(bytes: Buffer, sql: string): Promise<unknown[][]> {
  const file = join(dir, `q-${Math.random().toString(36).slice(2)}.duckdb`);
  await writeFile(file, bytes);
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH '${file}' AS f (READ_ONLY); USE f`);
    return (await conn.runAndReadAll(sql)).getRows();
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

describe("the site's data loader", () => {
  it("reads data/ningxia by default and the folder FUNDWATCH_DATA_DIR names otherwise", async () => {
    delete process.env.FUNDWATCH_DATA_DIR;
    expect(inputDirectory(ROOT)).toBe(join(ROOT, "data", "ningxia"));
    const other = join(dir, "other");
    await mkdir(other, {recursive: true});
    await writeFile(
      join(other, "区划.csv"),
      "区划编码,区划名称,上级编码,层级,单位类型,定点医疗机构数,定点零售药店数\n640000,宁夏回族自治区,,省,行政区划,,\n640100,银川市,640000,市,行政区划,,\n640104,兴庆区,640100,县,行政区划,5,2\n"
    );
    process.env.FUNDWATCH_DATA_DIR = other;
    process.env.FUNDWATCH_DATA_SOURCE = "测试输入";
    process.env.SOURCE_DATE_EPOCH = "1700000000";
    expect(inputDirectory(ROOT)).toBe(other);
    // A folder of divisions alone fails the completeness gates (next test): preview mode loads it all the same.
    process.env.FUNDWATCH_GATES = "warn";
    const bytes = await runLoader();
    expect(await query(bytes, "SELECT code, name FROM divisions ORDER BY code")).toEqual([
      ["640000", "宁夏回族自治区"],
      ["640100", "银川市"],
      ["640104", "兴庆区"]
    ]);
    expect(
      await query(bytes, "SELECT value FROM meta WHERE key IN ('source', 'generated_at') ORDER BY key")
    ).toEqual([["2023-11-14T22:13:20.000Z"], ["测试输入"]]);
    expect(await query(bytes, "SELECT count(*)::INTEGER FROM inspections")).toEqual([[0]]);
    expect((await runLoader()).equals(bytes)).toBe(true);
    expect(await query(bytes, "SELECT value FROM gate_status WHERE key = 'status'")).toEqual([["failed"]]);
  });
  it("fails when the data fails a completeness gate, naming each failure (FUNDWATCH_GATES=warn only reports)", async () => {
    const other = join(dir, "gates");
    await mkdir(other, {recursive: true});
    await writeFile(
      join(other, "区划.csv"),
      "区划编码,区划名称,上级编码,层级,单位类型,定点医疗机构数,定点零售药店数\n640000,宁夏回族自治区,,省,行政区划,,\n"
    );
    process.env.FUNDWATCH_DATA_DIR = other;
    await expect(runLoader()).rejects.toThrow(
      /^质量门槛未通过（\d+ 项），不发布：\n- 必需数据集为空：没有「定点医药机构」的输入文件，这个数据集一行也没有载入\n/
    );
  });
  it("fails, naming the file and the problem, when an input cannot be read", async () => {
    const bad = join(dir, "bad");
    await mkdir(bad, {recursive: true});
    await writeFile(join(bad, "机构.csv"), Buffer.from([0xff, 0xfe, 0x81, 0x0a]));
    process.env.FUNDWATCH_DATA_DIR = bad;
    await expect(runLoader()).rejects.toThrow(/机构\.csv: 无法识别的文件编码/);
  });
});
