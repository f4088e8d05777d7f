// The outputs of an ingest: written atomically (a killed writer leaves the previous file or none; the four
// outputs of `npm run ingest` are published as one set), the same input gives the same bytes, and
// `npm run ingest` reports and exits as documented.
import {spawn, spawnSync} from "node:child_process";
import {
  lstat,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
  mkdir
} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {DuckDBInstance} from "@duckdb/node-api";
import {csvParseRows} from "d3";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {writeDuckDBFile, type TableSpec} from "../../loaders/duckdb-file.js";
import {OUTPUT_FILES, removeStaleOutputs} from "../../loaders/outputs.js";
import {DATASETS} from "../../src/schema/index.js";

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

  // Two files alone fail the completeness gates (next tests); here the ingest's own exit codes are the
  // subject, so the gates are set to let them through and nothing is compared with a published build.
  const lenient = (): string[] => ["--checks", join(dir, "lenient.json"), "--previous", "none"];
  beforeAll(async () => {
    await writeFile(
      join(dir, "lenient.json"),
      JSON.stringify({gates: {required_datasets: [], max_rejected_share: 1}})
    );
  });

  it("writes the outputs, prints the JSON summary and exits 0 when rows were rejected", async () => {
    const out = join(dir, "out1");
    const r = run([input, "--out", out, "--today", "2024-09-30", ...lenient()]);
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
    expect(
      rejects.startsWith("\uFEFF文件,工作表,行号,列,原值,原值（原样）,原因,reason,规则,规则编号\n")
    ).toBe(true);
    expect(rejects).toMatch(/机构\.csv,,3,所属区划,不存在区,"""不存在区""",未知区划/);
    expect(rejects).toMatch(/,「所属区划」填写有误,invalid-division_code\n/);
    expect((await readdir(out)).sort()).toEqual([...OUTPUT_FILES].sort());
    expect(r.stderr).toMatch(/读取 5 行，载入 4 行，拒收 1 行/);
    // The same input gives the same bytes.
    const out2 = join(dir, "out2");
    expect(run([input, "--out", out2, "--today", "2024-09-30", ...lenient()]).status).toBe(0);
    for (const name of ["fundwatch.duckdb", "rejects.csv", "warnings.csv", "summary.json"]) {
      expect((await readFile(join(out, name))).equals(await readFile(join(out2, name))), name).toBe(true);
    }
  }, 60_000);
  it("exits 3 when a completeness gate fails, listing each in Chinese, with the outputs written to look at", async () => {
    const out = join(dir, "out-gates");
    const r = run([input, "--out", out, "--today", "2024-09-30", "--previous", "none"]);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/质量门槛有 \d+ 项未通过（没有上次发布的记录，未做与上次的比较）：/);
    expect(r.stderr).toMatch(/- 必需数据集为空：没有「专项行动」的输入文件，这个数据集一行也没有载入/);
    expect(r.stderr).toMatch(/- 拒收比例过高：机构\.csv 读取 2 行，拒收 1 行（50%），超过上限 2%/);
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf-8")) as {
      gates: {status: string; failures: {gate: string}[]};
    };
    expect(summary.gates.status).toBe("failed");
    expect(summary.gates.failures.map((f) => f.gate)).toContain("rejected-share");
    const accepted = run([
      input,
      "--out",
      out,
      "--today",
      "2024-09-30",
      "--previous",
      "none",
      "--accept",
      "试点县只报送区划和机构"
    ]);
    expect(accepted.status, accepted.stderr).toBe(0);
    expect(accepted.stderr).toMatch(/管理员已确认照常发布（原因：试点县只报送区划和机构）/);
    expect(
      (JSON.parse(await readFile(join(out, "summary.json"), "utf-8")) as {gates: {status: string}}).gates
        .status
    ).toBe("accepted");
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

describe("npm run ingest publishes its four outputs as one set", () => {
  const csv = (rows: string[][]): string => rows.map((r) => r.join(",")).join("\n") + "\n";
  const DEFAULT_DATA = join(ROOT, "data", "ningxia");
  let small: string;
  beforeAll(async () => {
    small = join(dir, "small-input");
    await mkdir(small, {recursive: true});
    // The small input fails the completeness gates; the subject here is how the outputs are published.
    await writeFile(
      join(dir, "lenient-set.json"),
      JSON.stringify({gates: {required_datasets: [], max_rejected_share: 1}})
    );
    await writeFile(
      join(small, "区划.csv"),
      csv([
        ["区划编码", "区划名称", "上级编码", "层级", "单位类型", "定点医疗机构数", "定点零售药店数"],
        ["640000", "宁夏回族自治区", "", "省", "行政区划", "", ""],
        ["640100", "银川市", "640000", "市", "行政区划", "", ""],
        ["640104", "兴庆区", "640100", "县", "行政区划", "1", "0"]
      ])
    );
    await writeFile(
      join(small, "机构.csv"),
      csv([
        ["机构编码", "机构名称", "所属区划", "机构类型", "机构等级", "经营性质"],
        ["H64010400001", "兴庆甲医院", "兴庆区", "医院", "三级", "公立"],
        ["H64010400002", "兴庆乙医院", "不存在区", "医院", "二级", "公立"]
      ])
    );
  });

  const argsOf = (input: string, out: string, source: string): string[] => [
    "--import",
    "tsx",
    join(ROOT, "scripts", "ingest.ts"),
    input,
    "--out",
    out,
    "--today",
    "2024-12-31",
    "--source",
    source,
    "--checks",
    join(dir, "lenient-set.json"),
    "--previous",
    "none"
  ];
  const runIngest = (input: string, out: string, source: string) =>
    spawnSync(process.execPath, argsOf(input, out, source), {cwd: ROOT, encoding: "utf-8"});

  /**
   * The set in `folder`: checks that its four files belong together (summary.json's totals and warning
   * count equal the database's row counts, the CSV files hold the database's rejects and warnings, the
   * as-of dates agree) and returns the source the run was given (旧 or 新), read from the database.
   */
  async function readSet(folder: string): Promise<string> {
    expect((await readdir(folder)).sort()).toEqual([...OUTPUT_FILES].sort());
    const summary = JSON.parse(await readFile(join(folder, "summary.json"), "utf-8")) as {
      as_of: string | null;
      totals: {rows_read: number; rows_loaded: number; rows_rejected: number};
      warnings: number;
    };
    const csvRows = async (name: string): Promise<number> =>
      csvParseRows((await readFile(join(folder, name), "utf-8")).replace(/^\uFEFF/, "")).length - 1;
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    try {
      await conn.run(`ATTACH '${join(folder, "fundwatch.duckdb")}' AS f (READ_ONLY)`);
      const one = async (sql: string): Promise<unknown> => (await conn.runAndReadAll(sql)).getRows()[0]?.[0];
      let loaded = 0;
      for (const ds of DATASETS) loaded += Number(await one(`SELECT count(*) FROM f.${ds.name}`));
      expect(loaded).toBe(summary.totals.rows_loaded);
      expect(Number(await one("SELECT sum(rows_read) FROM f.inputs"))).toBe(summary.totals.rows_read);
      expect(Number(await one("SELECT sum(rows_rejected) FROM f.inputs"))).toBe(summary.totals.rows_rejected);
      expect(Number(await one("SELECT count(*) FROM f.warnings"))).toBe(summary.warnings);
      expect(await csvRows("warnings.csv")).toBe(summary.warnings);
      expect(await csvRows("rejects.csv")).toBe(Number(await one("SELECT count(*) FROM f.rejects")));
      expect(await one("SELECT value FROM f.meta WHERE key = 'as_of'")).toBe(summary.as_of);
      return String(await one("SELECT value FROM f.meta WHERE key = 'source'"));
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  }

  /**
   * Moments of a run, each seen from outside (the output folder's parent and the run's staging folder).
   * `before`: the moment is followed by the database write, so a kill there surely lands before the
   * set is published; after the others the run may finish publishing before the signal arrives.
   */
  const MOMENTS: {
    name: string;
    before: boolean;
    reached: (parent: string[], staging: string[], pid: number) => boolean;
  }[] = [
    {name: "读取输入时", before: true, reached: () => false},
    {
      name: "暂存目录刚建好",
      before: true,
      reached: (parent, _, pid) => parent.includes(`.out.staging-${pid}`)
    },
    {
      name: "数据库写到一半",
      before: true,
      reached: (_, staging, pid) => staging.includes(`fundwatch.duckdb.${pid}.tmp`)
    },
    {
      name: "数据库已写好，CSV 写入中",
      before: false,
      reached: (_, staging) => staging.includes("fundwatch.duckdb")
    },
    {name: "上次的结果已移开", before: false, reached: (parent, _, pid) => parent.includes(`.out.old-${pid}`)}
  ];

  /** Runs the ingest of the default data into `out` and SIGKILLs it at `moment` (the first after 1.5 s). */
  async function killAt(out: string, moment: (typeof MOMENTS)[number]): Promise<{hit: boolean; pid: number}> {
    const parent = join(out, "..");
    const child = spawn(process.execPath, argsOf(DEFAULT_DATA, out, "新"), {cwd: ROOT, stdio: "ignore"});
    const exited = new Promise<string | null>((resolve) => child.on("exit", (_, signal) => resolve(signal)));
    const pid = child.pid ?? -1;
    const started = Date.now();
    while (child.exitCode === null && child.signalCode === null) {
      const entries = await readdir(parent);
      const staging = await readdir(join(parent, `.out.staging-${pid}`)).catch(() => [] as string[]);
      const due = moment === MOMENTS[0] ? Date.now() - started > 1500 : moment.reached(entries, staging, pid);
      if (due) {
        child.kill("SIGKILL");
        break;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    return {hit: (await exited) === "SIGKILL", pid};
  }

  it("a run killed at any moment leaves the previous complete set or the new one; the next run cleans up", async () => {
    const parent = join(dir, "set");
    const out = join(parent, "out");
    await mkdir(parent, {recursive: true});
    expect(runIngest(small, out, "旧").status).toBe(0);
    expect(await readSet(out)).toBe("旧");
    const killed: string[] = [];
    for (const moment of MOMENTS) {
      const {hit, pid} = await killAt(out, moment);
      if (hit) killed.push(moment.name);
      // A kill while writing leaves the staging folder, for the next run to remove.
      if (hit && moment.before && moment !== MOMENTS[0])
        expect(await readdir(parent), moment.name).toContain(`.out.staging-${pid}`);
      if (!(await stat(out).catch(() => undefined))) {
        // Killed between the two renames: the previous set waits beside the folder for the next run.
        expect(moment.name).toBe("上次的结果已移开");
        expect((await readdir(parent)).some((e) => e.startsWith(".out.old-"))).toBe(true);
        await removeStaleOutputs(out);
      }
      const set = await readSet(out);
      // Either complete set, never a mix (readSet checks the four agree); surely the old one before publishing.
      if (!hit) expect(set, moment.name).toBe("新");
      else if (moment.before) expect(set, moment.name).toBe("旧");
      if (set === "新") expect(runIngest(small, out, "旧").status).toBe(0);
    }
    // The moments that last long enough to be caught every time.
    expect(killed).toEqual(expect.arrayContaining(["读取输入时", "暂存目录刚建好", "数据库写到一半"]));
    const r = runIngest(DEFAULT_DATA, out, "新");
    expect(r.status, r.stderr).toBe(0);
    expect(await readSet(out)).toBe("新");
    expect(await readdir(parent)).toEqual(["out"]);
  }, 300_000);

  it("the next run puts back a previous set left aside by a kill between the renames; a live run's folder stays", async () => {
    const parent = join(dir, "swap");
    const out = join(parent, "out");
    await mkdir(parent, {recursive: true});
    expect(runIngest(small, out, "旧").status).toBe(0);
    const dead = 2_147_483_647; // beyond any pid_max: no such process
    await writeFile(join(out, `summary.json.${dead}.tmp`), "{");
    await rename(out, join(parent, `.out.old-${dead}`));
    await mkdir(join(parent, `.out.staging-${dead}`));
    await writeFile(join(parent, `.out.staging-${dead}`, "rejects.csv"), "半个文件");
    const live = join(parent, `.out.staging-${process.ppid}`);
    await mkdir(live);
    expect((await removeStaleOutputs(out)).sort()).toEqual(
      [`.out.old-${dead}`, `.out.staging-${dead}`, `summary.json.${dead}.tmp`].sort()
    );
    expect(await readSet(out)).toBe("旧");
    expect((await readdir(parent)).sort()).toEqual([`.out.staging-${process.ppid}`, "out"].sort());
    await rm(live, {recursive: true});
  }, 60_000);

  it("refuses an output folder holding other files (exit 2), touching nothing", async () => {
    const out = join(dir, "busy");
    await mkdir(out, {recursive: true});
    await writeFile(join(out, "笔记.txt"), "别删我");
    await writeFile(join(out, "rejects.csv"), "旧的");
    const r = runIngest(small, out, "新");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/输出目录 .*busy 中有检查结果以外的文件或目录（笔记\.txt）/);
    expect((await readdir(out)).sort()).toEqual(["rejects.csv", "笔记.txt"]);
    expect(await readFile(join(out, "笔记.txt"), "utf-8")).toBe("别删我");
    expect(await readdir(dir)).not.toContain(".busy.staging-");
  }, 60_000);

  it("an output folder given as a symbolic link: the folder it names gets the set, the link stays", async () => {
    const real = join(dir, "real-out");
    const link = join(dir, "link-out");
    await mkdir(real);
    await symlink(real, link);
    expect(runIngest(small, link, "旧").status).toBe(0);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readSet(real)).toBe("旧");
  }, 60_000);
});
