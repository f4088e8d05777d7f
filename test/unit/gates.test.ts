// Completeness gates (loaders/gates.ts) and their configuration (fundwatch.checks.json): each gate
// tried on a copy of the default data with the defect it is for, through the real ingest and SQL;
// the figures they count cross-checked against an independent count of the ingest's rows.
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {DEFAULT_CHECKS, loadChecks, parseChecks} from "../../loaders/checks-config.js";
import {writeDuckDBFile} from "../../loaders/duckdb-file.js";
import {
  checkGates,
  dataManifest,
  evaluateGates,
  gateError,
  gateReport,
  readGateReport,
  readPreviousBuild,
  gateTables,
  type DataManifest,
  type PreviousBuild
} from "../../loaders/gates.js";
import {ingest, type IngestResult} from "../../loaders/ingest.js";
import {openNativeDb} from "../../loaders/native-db.js";
import {toTables} from "../../loaders/outputs.js";
import {RECOVERY_ACTIONS} from "../../src/schema/actions.js";
import {copyDefaultData, DEFAULT_DATA, DEFECTS} from "../support/data-defects.js";

const ROOT = join(import.meta.dirname, "..", "..");
const DATA = DEFAULT_DATA;
const TODAY = "2024-12-31";
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-gates-"));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

/** Ingests `folder` and writes the site database as the loader does; returns the manifest. */
async function manifestOf(folder: string): Promise<{result: IngestResult; manifest: DataManifest}> {
  const result = await ingest([folder], {root: folder, today: TODAY});
  const file = join(dir, `db-${Math.random().toString(36).slice(2)}.duckdb`);
  await writeDuckDBFile(file, toTables(result, {source: "test", generatedAt: "2024-12-31T00:00:00Z"}));
  const {db, close} = await openNativeDb(file);
  try {
    return {result, manifest: await dataManifest(db)};
  } finally {
    close();
  }
}

/** A copy of the default data with one defect, in a fresh folder. */
async function damaged(defect: keyof typeof DEFECTS): Promise<string> {
  const folder = await copyDefaultData(join(dir, defect));
  await DEFECTS[defect](folder);
  return folder;
}

const previousOf = (manifest: DataManifest): PreviousBuild => ({
  built_at: "2024-12-30T00:00:00.000Z",
  divisions: manifest.divisions
});

let base: {result: IngestResult; manifest: DataManifest};
beforeAll(async () => {
  base = await manifestOf(DATA);
}, 60_000);

describe("the checks configuration", () => {
  it("defaults when there is no file, and the shipped fundwatch.checks.json says exactly the defaults", async () => {
    const none = await loadChecks(dir);
    expect(none.file).toBeNull();
    expect(none.gates).toEqual(DEFAULT_CHECKS.gates);
    const shipped = await loadChecks(ROOT);
    expect(shipped.file).toBe("fundwatch.checks.json");
    expect({gates: shipped.gates, ingest: shipped.ingest}).toEqual(DEFAULT_CHECKS);
  });

  it("takes a key from the file and the rest from the defaults; 元 limits become fen exactly", () => {
    const c = parseChecks(
      {
        gates: {max_rejected_share: 0.05},
        ingest: {amount_reject_above_yuan: 12345.67, amount_warn_above_yuan: 0.01}
      },
      "x.json"
    );
    expect(c.gates.maxRejectedShare).toBe(0.05);
    expect(c.gates.maxDivisionDrop).toEqual(DEFAULT_CHECKS.gates.maxDivisionDrop);
    expect(c.ingest.amountRejectAboveFen).toBe(1_234_567n);
    expect(c.ingest.amountWarnAboveFen).toBe(1n);
  });

  it("refuses a wrong key or value in Chinese, naming the file and every key", () => {
    expect(() =>
      parseChecks({gates: {max_rejected_sharee: 0.05, max_division_drop: {rows: 2}}}, "fundwatch.checks.json")
    ).toThrow(/^配置文件 fundwatch\.checks\.json 有误：\n(- .*\n?){2}$/);
    const message = (() => {
      try {
        parseChecks({gates: {max_rejected_sharee: 0.05, max_division_drop: {rows: 2}}}, "f.json");
      } catch (error) {
        return (error as Error).message;
      }
      return "";
    })();
    expect(message).toContain("- 「gates」中有不认识的键：max_rejected_sharee");
    expect(message).toContain("- 「gates.max_division_drop.rows」不能大于 1");
    expect(() => parseChecks({ingest: {earliest_date: "2000/1/1"}}, "c.json")).toThrow(
      /「ingest\.earliest_date」应为 YYYY-MM-DD/
    );
    expect(() =>
      parseChecks({ingest: {amount_warn_above_yuan: 10, amount_reject_above_yuan: 5}}, "c.json")
    ).toThrow(/amount_warn_above_yuan」不能大于「ingest\.amount_reject_above_yuan/);
  });

  it("a file that is not JSON is an error naming it, never the defaults", async () => {
    await writeFile(join(dir, "broken.json"), "{gates: 1");
    await expect(loadChecks(dir, "broken.json")).rejects.toThrow(/配置文件 broken\.json 不是有效的 JSON/);
  });
});

describe("the figures the gates count", () => {
  it("counts every loaded dataset's rows, and every input file", () => {
    for (const ds of base.manifest.datasets)
      expect(ds.rows, ds.name).toBe(base.result.tables.get(ds.name)?.length ?? 0);
    expect(base.manifest.files.length).toBe(base.result.files.filter((f) => !f.duplicate_of).length);
  });

  it("attributes records to divisions as an independent count of the ingest's rows does", () => {
    const t = (name: string): Record<string, unknown>[] => base.result.tables.get(name) ?? [];
    const divisionOf = new Map(t("institutions").map((i) => [String(i.code), String(i.division_code)]));
    const ofInspection = new Map(
      t("inspections").map((s) => [String(s.id), divisionOf.get(String(s.institution_code))])
    );
    const inspectionOfFinding = new Map(t("findings").map((f) => [String(f.id), String(f.inspection_id)]));
    const rows = new Map<string, number>();
    const recovered = new Map<string, number>();
    const add = (code: string | undefined, n = 1, map = rows): void => {
      if (code !== undefined) map.set(code, (map.get(code) ?? 0) + n);
    };
    for (const code of ofInspection.values()) add(code);
    for (const f of t("findings")) add(ofInspection.get(String(f.inspection_id)));
    for (const p of t("dispositions")) {
      const inspection =
        p.finding_id === null ? String(p.inspection_id) : inspectionOfFinding.get(String(p.finding_id));
      const code = ofInspection.get(inspection ?? "");
      add(code);
      if ((RECOVERY_ACTIONS as readonly string[]).includes(String(p.action)))
        add(code, Number(p.amount), recovered);
    }
    for (const w of t("weekly_reports")) add(String(w.division_code));
    const counties = base.manifest.divisions.filter((d) => /^\d{4}(?!00)\d{2}$/.test(d.code));
    for (const d of base.manifest.divisions) expect(d.rows, d.code).toBe(rows.get(d.code) ?? 0);
    expect(base.manifest.divisions.reduce((s, d) => s + d.rows, 0)).toBe(
      [...rows.values()].reduce((s, n) => s + n, 0)
    );
    for (const d of counties) expect(d.recovered_fen, d.code).toBe(recovered.get(d.code) ?? 0);
    expect(counties.length).toBeGreaterThan(20);
  });

  it("has the latest weekly report of each reporting division, and the default data passes every gate", () => {
    expect(new Set(base.manifest.weekly.map((w) => w.code)).size).toBeGreaterThan(20);
    expect(new Set(base.manifest.weekly.map((w) => w.week_ending))).toEqual(new Set(["2024-09-27"]));
    expect(evaluateGates(base.manifest, previousOf(base.manifest), DEFAULT_CHECKS.gates)).toEqual([]);
  });
});

describe("each gate, on a copy of the default data with its defect", () => {
  it("the divisions file missing: 行政区划 empty and the institutions files mostly rejected", async () => {
    const folder = await damaged("noDivisions");
    const {manifest} = await manifestOf(folder);
    const failures = evaluateGates(manifest, previousOf(base.manifest), DEFAULT_CHECKS.gates);
    const gates = new Set(failures.map((f) => f.gate));
    expect(gates).toEqual(new Set(["required-dataset", "rejected-share", "division-silent"]));
    expect(failures.find((f) => f.gate === "required-dataset")?.message).toBe(
      "必需数据集为空：没有「行政区划」的输入文件，这个数据集一行也没有载入"
    );
    expect(failures.map((f) => f.message)).toContain(
      "拒收比例过高：银川市_定点医药机构.csv 读取 1983 行，拒收 1983 行（100%），超过上限 2%"
    );
  }, 60_000);

  it("a city that sent no files this week: each of its divisions named as silent", async () => {
    const folder = await damaged("citySilent");
    const {manifest} = await manifestOf(folder);
    const failures = evaluateGates(manifest, previousOf(base.manifest), DEFAULT_CHECKS.gates);
    const guyuan = base.manifest.divisions.filter((d) => d.code.startsWith("6404") && d.rows > 0);
    expect(failures.filter((f) => f.gate === "division-silent").map((f) => f.subject)).toEqual(
      guyuan.map((d) => `${d.name}（${d.code}）`)
    );
    const first = guyuan[0];
    expect(failures.find((f) => f.gate === "division-silent")?.message).toBe(
      `区划没有数据：${first?.name}（${first?.code}）上次发布时有 ${first?.rows} 行记录，这次没有任何记录（是否缺了这个地区的文件？）`
    );
  }, 60_000);

  it("half of one city's inspection rows missing: its divisions' records fall, named with both figures", async () => {
    const folder = await damaged("halfRows");
    const {manifest} = await manifestOf(folder);
    const failures = evaluateGates(manifest, previousOf(base.manifest), DEFAULT_CHECKS.gates);
    const drops = failures.filter((f) => f.gate === "division-rows-drop");
    expect(drops.length).toBeGreaterThan(0);
    expect(drops.every((f) => f.subject.includes("（6403"))).toBe(true);
    for (const f of drops) {
      const code = /（(\d{6})）/.exec(f.subject)?.[1];
      const before = base.manifest.divisions.find((d) => d.code === code);
      const after = manifest.divisions.find((d) => d.code === code);
      expect(f.message).toContain(`从上次发布的 ${before?.rows} 行降到 ${after?.rows} 行`);
    }
  }, 60_000);

  it("one city's recovered amounts halved: each of its counties named with both amounts in 元", async () => {
    const {manifest} = await manifestOf(await damaged("recoveredHalved"));
    const failures = evaluateGates(manifest, previousOf(base.manifest), DEFAULT_CHECKS.gates);
    expect(new Set(failures.map((f) => f.gate))).toEqual(
      new Set(["division-recovered-drop", "weekly-mismatch"])
    );
    const drops = failures.filter((f) => f.gate === "division-recovered-drop");
    const guyuan = base.manifest.divisions.filter((d) => d.code.startsWith("6404") && d.recovered_fen > 0);
    expect(drops.map((f) => f.subject)).toEqual(guyuan.map((d) => `${d.name}（${d.code}）`));
    for (const d of drops)
      expect(d.message).toMatch(
        /的追回金额从上次发布的 [\d,]+\.\d\d元降到 [\d,]+\.\d\d元（减少 50%，上限 10%）$/
      );
  }, 60_000);

  it("a file with 5% of its rows unreadable: named with its figures, and the files its loss cascades to", async () => {
    const {manifest} = await manifestOf(await damaged("manyRejected"));
    const failures = evaluateGates(manifest, previousOf(base.manifest), DEFAULT_CHECKS.gates);
    // 660 rows, every 20th from the first changed: 33 more rejected beside the 3 the seed already has;
    // the dispositions of the lost findings are rejected in turn (unknown finding).
    const rejected = failures.filter((f) => f.gate === "rejected-share").map((f) => f.message);
    expect(rejected).toEqual([
      expect.stringMatching(
        /^拒收比例过高：银川市_处理结果\.csv 读取 1219 行，拒收 \d+ 行（2\.\d%），超过上限 2%$/
      ),
      "拒收比例过高：银川市_违规问题.csv 读取 660 行，拒收 36 行（5.5%），超过上限 2%"
    ]);
  }, 60_000);

  it("a recovered amount that falls by a fifth: the division named with both amounts in 元", () => {
    const previous = previousOf(base.manifest);
    const county = base.manifest.divisions.find((d) => d.recovered_fen > 0);
    if (!county) throw new Error("no county with recoveries");
    const now: DataManifest = {
      ...base.manifest,
      divisions: base.manifest.divisions.map((d) =>
        d.code === county.code ? {...d, recovered_fen: Math.floor(d.recovered_fen * 0.8)} : d
      )
    };
    const failures = evaluateGates(now, previous, DEFAULT_CHECKS.gates);
    expect(failures.map((f) => [f.gate, f.subject])).toEqual([
      ["division-recovered-drop", `${county.name}（${county.code}）`]
    ]);
    expect(failures[0]?.message).toMatch(/减少 20%，上限 10%）$/);
  });

  it("a file with more than 2% of its rows rejected: named with its figures; 2% itself passes", () => {
    const file = {file: "吴忠市_检查记录.csv", dataset: "inspections", rows_read: 1000, rows_rejected: 21};
    const with21: DataManifest = {...base.manifest, files: [file]};
    expect(evaluateGates(with21, null, DEFAULT_CHECKS.gates)).toEqual([
      {
        gate: "rejected-share",
        subject: "吴忠市_检查记录.csv",
        message: "拒收比例过高：吴忠市_检查记录.csv 读取 1000 行，拒收 21 行（2.1%），超过上限 2%"
      }
    ]);
    const with20: DataManifest = {...base.manifest, files: [{...file, rows_rejected: 20}]};
    expect(evaluateGates(with20, null, DEFAULT_CHECKS.gates)).toEqual([]);
  });

  it("a weekly report that disagrees with the case records beyond the tolerance", async () => {
    const folder = await damaged("weeklyOff");
    const {manifest} = await manifestOf(folder);
    const failures = evaluateGates(manifest, previousOf(base.manifest), DEFAULT_CHECKS.gates);
    expect(failures.map((f) => f.gate)).toEqual(["weekly-mismatch"]);
    expect(failures[0]?.message).toMatch(
      /^周报与案件记录不符：.+（6404\d\d） 2024-09-27 的周报「累计检查机构数」为 \d+ 家，案件记录为 \d+ 家（允许相差 5%）$/
    );
  }, 60_000);

  it("a weekly report within the tolerance passes: counts off by one institution, money off by 尾差", () => {
    const w = {code: "640104", name: "兴庆区", week_ending: "2024-09-27"};
    const manifest: DataManifest = {
      ...base.manifest,
      files: [],
      weekly: [
        {...w, figure: "inspected", reported: 3, recorded: 2},
        {...w, figure: "recovered", reported: 100_000, recorded: 104_999}
      ]
    };
    expect(evaluateGates(manifest, null, DEFAULT_CHECKS.gates)).toEqual([]);
    manifest.weekly[0] = {...w, figure: "inspected", reported: 4, recorded: 2};
    expect(evaluateGates(manifest, null, DEFAULT_CHECKS.gates).map((f) => f.gate)).toEqual([
      "weekly-mismatch"
    ]);
  });
});

describe("the verdict", () => {
  const failure = {gate: "rejected-share", subject: "a.csv", message: "拒收比例过高：a.csv …"};

  it("fails unless accepted with a reason; a blank reason is no acceptance", () => {
    const options = {previous: null, configFile: null};
    expect(gateReport([], {...options, accept: "原因"}).status).toBe("passed");
    expect(gateReport([], {...options, accept: "原因"}).accepted_reason).toBeNull();
    expect(gateReport([failure], {...options, accept: null}).status).toBe("failed");
    expect(gateReport([failure], {...options, accept: "  "}).status).toBe("failed");
    const accepted = gateReport([failure], {...options, accept: "固原市本周数据经电话核实无误"});
    expect(accepted.status).toBe("accepted");
    expect(accepted.accepted_reason).toBe("固原市本周数据经电话核实无误");
  });

  it("the error lists each failure on its own line and says how to publish anyway", () => {
    const report = gateReport([failure, {...failure, subject: "b.csv", message: "拒收比例过高：b.csv …"}], {
      accept: null,
      previous: null,
      configFile: null
    });
    expect(gateError(report).split("\n")).toEqual([
      "质量门槛未通过（2 项），不发布：",
      "- 拒收比例过高：a.csv …",
      "- 拒收比例过高：b.csv …",
      '- 如确认这些数据无误、需要照常发布，请由管理员运行 npm run build -- --accept "原因"（原因会显示在数据质量页和发布清单中）'
    ]);
  });

  it("is written into the database and read back as it was", async () => {
    const report = gateReport([failure], {
      accept: "核实无误",
      previous: {built_at: "2024-12-30T00:00:00.000Z", divisions: []},
      configFile: "fundwatch.checks.json"
    });
    const file = join(dir, "verdict.duckdb");
    await writeDuckDBFile(file, gateTables(report));
    const {db, close} = await openNativeDb(file);
    try {
      expect(await readGateReport(db)).toEqual(report);
    } finally {
      close();
    }
  });

  it("checkGates on the written database gives the same verdict as the manifest's evaluation", async () => {
    const file = join(dir, "checked.duckdb");
    await writeDuckDBFile(
      file,
      toTables(base.result, {source: "test", generatedAt: "2024-12-31T00:00:00Z"}),
      {
        after: async (db) =>
          gateTables(
            await checkGates(db, {
              config: {...DEFAULT_CHECKS.gates, maxRejectedShare: 0.005},
              previous: null,
              accept: null,
              configFile: null
            })
          )
      }
    );
    const {db, close} = await openNativeDb(file);
    try {
      const report = await readGateReport(db);
      expect(report?.status).toBe("failed");
      // 吴忠市_周报.csv: 1 of 101 rows rejected (0.99%) is the only file above 0.5%.
      expect(report?.failures.map((f) => f.subject)).toEqual(["吴忠市_周报.csv"]);
    } finally {
      close();
    }
  });
});

describe("the last published build", () => {
  it("is read from build.json; none, or one from before the manifest, means nothing to compare", async () => {
    expect(await readPreviousBuild(join(dir, "missing.json"))).toBeNull();
    await writeFile(join(dir, "old.json"), JSON.stringify({built_at: "x", data: {inputs: []}}));
    expect(await readPreviousBuild(join(dir, "old.json"))).toBeNull();
    const divisions = [{code: "640104", name: "兴庆区", rows: 10, recovered_fen: 5}];
    await writeFile(join(dir, "new.json"), JSON.stringify({built_at: "t", data: {divisions}}));
    expect(await readPreviousBuild(join(dir, "new.json"))).toEqual({built_at: "t", divisions});
    await writeFile(join(dir, "bad.json"), JSON.stringify({built_at: "t", data: {divisions: [{code: 1}]}}));
    await expect(readPreviousBuild(join(dir, "bad.json"))).rejects.toThrow(/格式不对，无法比较/);
  });
});
