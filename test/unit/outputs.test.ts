// The outputs of an ingest: written atomically (a killed writer leaves the previous file or none),
// the same input gives the same bytes, and `npm run ingest` reports and exits as documented.
import {spawn, spawnSync} from "node:child_process";
import {mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {DuckDBInstance} from "@duckdb/node-api";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {writeDuckDBFile, type TableSpec} from "../../loaders/duckdb-file.js";

const ROOT = join(import.meta.dirname, "..", "..");
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-outputs-"));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

const small = (label: string): TableSpec[] => [
  {
    name: "t",
    columns: [
      {name: "label", type: "VARCHAR"},
      {name: "fen", type: "BIGINT"}
    ],
    rows: [[label, 1234n]]
  }
];

async function readTable(path: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH '${path}' AS f (READ_ONLY)`);
    const reader = await conn.runAndReadAll("SELECT label, fen FROM f.t");
    return reader.getRows();
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Starts a child process writing a large table to `dest`, and SIGKILLs it once its temporary file exists. */
async function killMidWrite(dest: string): Promise<{signal: string | null; sawTemp: boolean}> {
  const script = join(dir, `writer-${Date.now()}.mts`); // .mts: an ES module, for top-level await
  const module = pathToFileURL(join(ROOT, "loaders", "duckdb-file.ts")).href;
  await writeFile(
    script,
    `import {writeDuckDBFile} from ${JSON.stringify(module)};
const rows = Array.from({length: 3_000_000}, (_, i) => ["行" + i, BigInt(i)]);
await writeDuckDBFile(${JSON.stringify(dest)}, [{name: "t", columns: [{name: "label", type: "VARCHAR"}, {name: "fen", type: "BIGINT"}], rows}]);
`
  );
  const child = spawn(process.execPath, ["--import", "tsx", script], {cwd: ROOT, stdio: "ignore"});
  const exited = new Promise<string | null>((resolve) => child.on("exit", (_, signal) => resolve(signal)));
  const tempName = new RegExp(`^${dest.split("/").pop()!.replaceAll(".", "\\.")}\\.${child.pid}\\.tmp$`);
  let sawTemp = false;
  for (let i = 0; i < 1200 && !sawTemp && child.exitCode === null; ++i) {
    await new Promise((r) => setTimeout(r, 25));
    const entries = await readdir(join(dest, ".."));
    for (const e of entries) {
      if (tempName.test(e) && (await stat(join(dest, "..", e)).catch(() => undefined))?.size) sawTemp = true;
    }
  }
  child.kill("SIGKILL");
  return {signal: await exited, sawTemp};
}

describe("the DuckDB file is written atomically", () => {
  it("a writer killed mid-write leaves the previous file, byte for byte; the next write cleans up", async () => {
    const dest = join(dir, "keep", "fundwatch.duckdb");
    await writeDuckDBFile(dest, small("旧"));
    const before = await readFile(dest);
    const {signal, sawTemp} = await killMidWrite(dest);
    expect(sawTemp).toBe(true);
    expect(signal).toBe("SIGKILL");
    expect((await readFile(dest)).equals(before)).toBe(true);
    expect(await readTable(dest)).toEqual([["旧", 1234n]]);
    const leftovers = (await readdir(join(dir, "keep"))).filter(
      (e) => e.endsWith(".tmp") || e.endsWith(".wal")
    );
    expect(leftovers.length).toBeGreaterThan(0);
    await writeDuckDBFile(dest, small("新"));
    expect(await readTable(dest)).toEqual([["新", 1234n]]);
    expect(await readdir(join(dir, "keep"))).toEqual(["fundwatch.duckdb"]);
  }, 120_000);
  it("a writer killed before its first file was finished leaves no file at all", async () => {
    const dest = join(dir, "none", "fundwatch.duckdb");
    await mkdir(join(dir, "none"), {recursive: true});
    const {sawTemp} = await killMidWrite(dest);
    expect(sawTemp).toBe(true);
    await expect(stat(dest)).rejects.toThrow(/ENOENT/);
  }, 120_000);
  it("gives the same bytes for the same input", async () => {
    await writeDuckDBFile(join(dir, "a.duckdb"), small("同"));
    await writeDuckDBFile(join(dir, "b.duckdb"), small("同"));
    expect((await readFile(join(dir, "a.duckdb"))).equals(await readFile(join(dir, "b.duckdb")))).toBe(true);
  });
});

describe("npm run ingest", () => {
  const csv = (rows: string[][]): string => rows.map((r) => r.join(",")).join("\n") + "\n";
  const run = (args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "ingest.ts"), ...args], {
      cwd: ROOT,
      encoding: "utf-8",
      env: {...process.env, SOURCE_DATE_EPOCH: "1700000000"}
    });
  let input: string;
  beforeAll(async () => {
    input = join(dir, "input");
    await mkdir(input, {recursive: true});
    await writeFile(
      join(input, "区划.csv"),
      csv([
        ["区划编码", "区划名称", "上级编码", "层级", "单位类型", "定点医疗机构数", "定点零售药店数"],
        ["640000", "宁夏回族自治区", "", "省", "行政区划", "", ""],
        ["640100", "银川市", "640000", "市", "行政区划", "", ""],
        ["640104", "兴庆区", "640100", "县", "行政区划", "2", "0"]
      ])
    );
    await writeFile(
      join(input, "机构.csv"),
      csv([
        ["机构编码", "机构名称", "所属区划", "机构类型", "机构等级", "经营性质"],
        ["H64010400001", "兴庆甲医院", "兴庆区", "医院", "三级", "公立"],
        ["H64010400002", "兴庆乙医院", "不存在区", "医院", "二级", "公立"]
      ])
    );
  });

  it("writes the outputs, prints the JSON summary and exits 0 when rows were rejected", async () => {
    const out = join(dir, "out1");
    const r = run([input, "--out", out, "--today", "2024-09-30"]);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as {
      totals: object;
      files: {file: string; rows_read: number; reasons: object}[];
    };
    expect(summary.totals).toEqual({rows_read: 5, rows_loaded: 4, rows_rejected: 1});
    expect(summary.files.find((f) => f.file === "机构.csv")).toMatchObject({
      rows_read: 2,
      reasons: {"invalid-division_code": 1}
    });
    expect(JSON.parse(await readFile(join(out, "summary.json"), "utf-8"))).toEqual(summary);
    const rejects = await readFile(join(out, "rejects.csv"), "utf-8");
    expect(rejects.startsWith("\uFEFF文件,工作表,行号,列,原值,原因,reason,规则\n")).toBe(true);
    expect(rejects).toMatch(/机构\.csv,,3,所属区划,不存在区,未知区划/);
    expect(r.stderr).toMatch(/读取 5 行，载入 4 行，拒收 1 行/);
    // The same input gives the same bytes.
    const out2 = join(dir, "out2");
    expect(run([input, "--out", out2, "--today", "2024-09-30"]).status).toBe(0);
    for (const name of ["fundwatch.duckdb", "rejects.csv", "warnings.csv", "summary.json"]) {
      expect((await readFile(join(out, name))).equals(await readFile(join(out2, name))), name).toBe(true);
    }
  }, 60_000);
  it("exits 1 and names each structural problem, writing nothing", async () => {
    const bad = join(dir, "bad");
    await mkdir(bad, {recursive: true});
    await writeFile(
      join(bad, "机构.csv"),
      csv([
        ["机构编码", "机构名称", "所属区划", "机构等级", "经营性质"],
        ["H64010400001", "甲", "640104", "三级", "公立"]
      ])
    );
    const out = join(dir, "out-bad");
    const r = run([bad, "--out", out]);
    expect(r.status).toBe(1);
    expect((JSON.parse(r.stdout) as {errors: string[]}).errors.join("\n")).toMatch(
      /机构\.csv（定点医药机构）: 缺少必需的列/
    );
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  }, 60_000);
  it("exits 2 with the usage on a usage error", () => {
    const r = run([]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/用法：npm run ingest -- <文件或目录…> --out <输出目录>/);
    expect(run([input, "--out"]).status).toBe(2);
    expect(run([input, "--out", join(dir, "x"), "--bogus", "1"]).status).toBe(2);
  }, 60_000);
});
