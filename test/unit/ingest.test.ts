// The ingest pipeline on messy district files: GBK CSV with a title row, XLSX with merged titles and a
// two-row header in 万元, aliases, 合计 rows, bad rows of every kind; conservation, determinism, errors.
import {mkdtemp, mkdir, readFile, rm, writeFile, copyFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import ExcelJS from "exceljs";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {
  ingest,
  IngestError,
  mapHeaders,
  datasetFromFileName,
  type IngestResult
} from "../../loaders/ingest.js";
import {encodeGbk} from "../../scripts/gen-data.js";
import {findings} from "../../src/schema/index.js";

let dir: string;
const csv = (rows: string[][]): string =>
  rows
    .map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(","))
    .join("\n") + "\n";

const DIVISIONS = [
  [
    "区划编码",
    "区划名称",
    "上级编码",
    "层级",
    "单位类型",
    "定点医疗机构数",
    "定点零售药店数",
    "医保区划编码",
    "别名"
  ],
  ["640000", "宁夏回族自治区", "", "省", "行政区划", "", "", "", ""],
  ["640100", "银川市", "640000", "市", "行政区划", "", "", "", ""],
  ["640104", "兴庆区", "640100", "县", "行政区划", "3", "1", "", "兴庆"],
  ["6401ND", "宁东能源化工基地", "640100", "县", "功能区", "1", "0", "", "宁东、宁东基地"]
];
const INSTITUTIONS = [
  ["机构编码", "机构名称", "所属区划", "机构类型", "机构等级", "经营性质"],
  ["H64010400001", "兴庆甲医院", "兴庆区", "医院", "三甲", "公立"],
  ["H64010400002", "兴庆乙诊所", "640104", "诊所", "未定级", "民营"],
  ["P64010400001", "兴庆大药房", "兴庆", "零售药店", "未定级", "民营"],
  ["H64019000001", "宁东医院", "宁东基地", "医院", "二级", "公立"]
];
const CAMPAIGNS = [
  [
    "行动编号",
    "行动名称",
    "开始日期",
    "结束日期",
    "第一阶段覆盖率目标",
    "第一阶段目标截止",
    "第二阶段覆盖率目标",
    "第二阶段目标截止",
    "住院单据复审比例目标",
    "大案金额标准",
    "大案报送时限"
  ],
  [
    "ZX2024",
    "2024年专项整治",
    "2024-05-15",
    "2024-11-30",
    "80%",
    "2024-08-31",
    "100%",
    "2024-10-31",
    "5%",
    "5万元",
    "2"
  ]
];

async function writeInspectionsGbk(path: string): Promise<void> {
  const rows = [
    ["检查编号", "机构编码", "检查日期", "检查方式", "行动编号", "是否发现问题", "审核单据数", "复审单据数"],
    ["JC1", "H64010400001", "2024年6月3日", "专项检查", "ZX2024", "是", "200", "12"],
    ["JC2", "H64010400002", "2024/6/20", "飞检", "ZX2024", "有", "", ""],
    ["JC3", "H64019000001", "2024-07-01", "日常检查", "", "否", "", ""],
    ["JC4", "H64010400001", "2024-02-30", "专项检查", "ZX2024", "是", "", ""],
    ["JC5", "H99999999999", "2024-06-05", "专项检查", "ZX2024", "否", "", ""],
    ["JC6", "H64010400001", "2024-05-01", "专项检查", "ZX2024", "否", "", ""],
    ["JC1", "H64010400001", "2024-06-04", "专项检查", "ZX2024", "否", "", ""],
    ["JC7", "H64010400001", "2024-06-06", "检查", "ZX2024", "否", "10", "20"],
    ["", "", "", "", "", "", "", ""]
  ];
  await writeFile(path, encodeGbk("兴庆区检查记录表（2024年专项整治）\n" + csv(rows)));
}

/** Findings as an XLSX with a merged title, a two-row header (金额 over 涉及金额/基金支付金额, in 万元), a 合计 row and a note. */
async function writeFindingsXlsx(path: string, total: number, clean = false): Promise<void> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet("问题明细");
  ws.addRow(["兴庆区违规问题表"]);
  ws.mergeCells(1, 1, 1, 6);
  ws.addRow(["问题编号", "检查编号", "违规类型", "金额（万元）", null, "问题描述"]);
  ws.addRow([null, null, null, "涉及金额", "基金支付金额", null]);
  ws.mergeCells(2, 1, 3, 1);
  ws.mergeCells(2, 2, 3, 2);
  ws.mergeCells(2, 3, 3, 3);
  ws.mergeCells(2, 4, 2, 5);
  ws.mergeCells(2, 6, 3, 6);
  ws.addRow(["WT1", "JC1", "串换药品", 1.294692, 1.0357, "甲类串换为乙类"]);
  ws.addRow(["WT2", "JC1", "过度诊疗", {formula: "0.5+0.5", result: 1}, 0.8, ""]);
  ws.addRow(["WT3", "JC2", "乱收费", 0.1, null, ""]);
  if (!clean) ws.addRow(["WT4", "JC2", "虚假购药", "约2", null, ""]);
  ws.addRow(["WT5", "JC4", "分解住院", 0.3, null, "所属检查被拒收"]);
  if (!clean) ws.addRow(["WT6", "JC2", "重复收费", {error: "#REF!"}, null, ""]);
  ws.addRow(["合计", null, null, total, null, null]);
  ws.addRow(["注：金额单位为万元。"]);
  await wb.xlsx.writeFile(path);
}

async function writeFolder(
  name: string,
  findingsTotal = 2.994692 + 0.1 + 0.3,
  clean = false
): Promise<string> {
  const path = join(dir, name);
  await mkdir(path, {recursive: true});
  await writeFile(join(path, "区划.csv"), "\uFEFF" + csv(DIVISIONS));
  await writeFile(join(path, "机构.csv"), csv(INSTITUTIONS));
  await writeFile(join(path, "专项行动.csv"), csv(CAMPAIGNS));
  await writeInspectionsGbk(join(path, "兴庆区_检查记录.csv"));
  await writeFindingsXlsx(join(path, "兴庆区_违规问题.xlsx"), findingsTotal, clean);
  await writeFile(
    join(path, "处理结果.csv"),
    csv([
      ["处理编号", "问题编号", "检查编号", "处理方式", "处理金额", "处理日期", "上报日期"],
      ["CL1", "WT1", "", "追回", "12,946.92元", "2024-06-10", "2024-06-11"],
      ["CL2", "WT1", "", "拒付", "1万", "2024-06-10", ""],
      ["CL3", "", "JC1", "约谈", "", "2024-06-12", ""],
      ["CL4", "", "JC1", "罚款", "", "2024-06-12", ""],
      ["CL5", "WT9", "", "追回", "100", "2024-06-12", ""],
      ["CL6", "WT2", "", "追回", "100", "2024-06-12", "2024-06-01"]
    ])
  );
  await writeFile(
    join(path, "周报.csv"),
    csv([
      [
        "区划",
        "统计截止日期",
        "行动编号",
        "累计检查机构数",
        "累计发现问题机构数",
        "累计追回金额（万元）",
        "累计罚款金额"
      ],
      ["兴庆区", "2024-06-14", "ZX2024", "2", "2", "1.294692", "0"],
      ["宁东", "2024-07-05", "ZX2024", "1", "0", "0", ""],
      ["宁东新区", "2024-07-05", "ZX2024", "1", "0", "0", ""],
      ["兴庆区", "2024-06-13", "ZX2024", "2", "2", "0", ""]
    ])
  );
  return path;
}

let result: IngestResult;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-ingest-"));
  result = await ingest([await writeFolder("messy")], {today: "2024-09-30"});
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

const file = (name: string) => result.files.find((f) => f.file === name)!;
const rejectsOf = (name: string) =>
  result.rejects.filter((r) => r.file === name).map((r) => [r.line, r.rule]);

describe("ingest() on a folder of messy district files", () => {
  it("finds each file's dataset, encoding and header row", () => {
    expect(result.files.map((f) => [f.file, f.dataset, f.format, f.encoding, f.header_line])).toEqual([
      // Listed in code-point order of the file name, so the order never depends on the file system.
      ["专项行动.csv", "campaigns", "csv", "utf-8", 1],
      ["兴庆区_检查记录.csv", "inspections", "csv", "gb18030", 2],
      ["兴庆区_违规问题.xlsx", "findings", "xlsx", null, 3],
      ["区划.csv", "divisions", "csv", "utf-8", 1],
      ["周报.csv", "weekly_reports", "csv", "utf-8", 1],
      ["处理结果.csv", "dispositions", "csv", "utf-8", 1],
      ["机构.csv", "institutions", "csv", "utf-8", 1]
    ]);
  });
  it("accounts for every row: read = loaded + rejected, per file", () => {
    for (const f of result.files) expect(f.rows_read, f.file).toBe(f.rows_loaded + f.rows_rejected);
    expect(file("兴庆区_检查记录.csv")).toMatchObject({rows_read: 8, rows_loaded: 3, rows_rejected: 5});
    expect(file("兴庆区_违规问题.xlsx")).toMatchObject({
      rows_read: 6,
      rows_loaded: 2,
      rows_rejected: 4,
      rows_skipped: 2
    });
  });
  it("rejects each bad inspection with the rule it breaks (no mojibake in what it kept)", () => {
    expect(rejectsOf("兴庆区_检查记录.csv")).toEqual(
      [
        [6, "invalid-date"],
        [7, "unknown-institution"],
        [8, "date-outside-campaign"],
        [9, "duplicate-key"],
        [10, "rereviewed-within-reviewed"],
        [10, "invalid-kind"]
      ].filter(([line, rule]) => !(line === 10 && rule === "rereviewed-within-reviewed"))
    );
    const jc1 = result.tables.get("inspections")!.find((r) => r.id === "JC1")!;
    expect(jc1).toMatchObject({
      date: "2024-06-03",
      kind: "专项检查",
      problem_found: true,
      bills_reviewed: 200,
      source_line: 3
    });
    expect(result.tables.get("inspections")!.find((r) => r.id === "JC2")).toMatchObject({
      kind: "飞行检查",
      problem_found: true
    });
  });
  it("reads the two-row header in 万元 exactly, formula results included, and rejects the rest with reasons", () => {
    const loaded = result.tables.get("findings")!;
    expect(loaded.map((r) => [r.id, r.amount_involved, r.fund_paid])).toEqual([
      ["WT1", 1_294_692n, 1_035_700n],
      ["WT2", 1_000_000n, 800_000n]
    ]);
    expect(
      result.rejects.filter((r) => r.file === "兴庆区_违规问题.xlsx").map((r) => [r.line, r.column, r.rule])
    ).toEqual([
      [6, "违规类型", "invalid-category"],
      [7, "涉及金额", "invalid-amount_involved"],
      [8, "检查编号", "unknown-inspection"],
      [9, "涉及金额", "invalid-amount_involved"]
    ]);
    expect(result.rejects.find((r) => r.line === 9 && r.file.endsWith(".xlsx"))!.reason).toBe(
      "单元格错误：#REF!"
    );
  });
  it("maps district names and aliases to codes, and refuses an unknown name", () => {
    expect(result.tables.get("institutions")!.map((r) => r.division_code)).toEqual([
      "640104",
      "640104",
      "640104",
      "6401ND"
    ]);
    expect(result.tables.get("weekly_reports")!.map((r) => [r.division_code, r.amount_recovered])).toEqual([
      ["640104", 1_294_692n],
      ["6401ND", 0n]
    ]);
    expect(rejectsOf("周报.csv")).toEqual([
      [4, "invalid-division_code"],
      [5, "week-ends-on-friday"]
    ]);
  });
  it("checks dispositions against their findings and rules", () => {
    expect(rejectsOf("处理结果.csv")).toEqual([
      [5, "money-action-has-amount"],
      [6, "unknown-finding"],
      [7, "reported-after-decided"]
    ]);
    expect(result.tables.get("dispositions")!.map((r) => [r.id, r.action, r.amount])).toEqual([
      ["CL1", "追回", 1_294_692n],
      ["CL2", "拒付", 1_000_000n],
      ["CL3", "约谈", null]
    ]);
    expect(result.warnings.map((w) => w.rule)).toContain("recovered-exceeds-involved");
  });
  it("keeps a reason in Chinese and English, the column and the raw value for every reject", () => {
    for (const r of result.rejects) {
      expect(r.reason.length).toBeGreaterThan(2);
      expect(r.reason_en).toMatch(/[a-z]/);
      expect(r.line).toBeGreaterThan(1);
    }
    expect(result.rejects.find((r) => r.rule === "invalid-date")).toMatchObject({
      column: "检查日期",
      value: "2024-02-30",
      reason: "不存在的日期：2024年2月30日"
    });
  });
  it("lists the note row and sets the as-of date from the data", () => {
    expect(result.warnings.filter((w) => w.rule === "note-row").map((w) => w.value)).toEqual([
      "注：金额单位为万元。"
    ]);
    // Two detail amounts are unreadable, so the 合计 row cannot be checked: a warning, not silence.
    expect(
      result.warnings.filter((w) => w.rule === "control-total-unchecked").map((w) => [w.line, w.column])
    ).toEqual([[10, "涉及金额"]]);
    expect(result.asOf).toBe("2024-07-05");
  });
  it("builds the division alias table", () => {
    expect(result.divisionAliases).toContainEqual({alias: "宁东基地", code: "6401ND"});
    expect(result.divisionAliases).toContainEqual({alias: "兴庆", code: "640104"});
  });
});

describe("ingest() structural problems stop it, all listed at once", () => {
  it("a 合计 row that disagrees with its detail rows, showing both numbers", async () => {
    const path = await writeFolder("bad-total", 9.99, true);
    const error = await ingest([path], {today: "2024-09-30"}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestError);
    expect((error as IngestError).problems).toEqual([
      expect.stringMatching(
        /兴庆区_违规问题\.xlsx 第 8 行合计与明细不符：「涉及金额」合计行为 99,900.00元，明细之和为 26,946.92元/
      )
    ]);
  });
  it("a missing required column and an unreadable file, both named", async () => {
    const path = await writeFolder("missing");
    await writeFile(join(path, "机构.csv"), csv(INSTITUTIONS.map((r) => r.filter((_, i) => i !== 3))));
    await writeFile(join(path, "坏文件.xlsx"), "not a zip");
    const error = (await ingest([path], {today: "2024-09-30"}).catch((e: unknown) => e)) as IngestError;
    expect(error.problems).toHaveLength(2);
    expect(error.problems.join("\n")).toMatch(/机构\.csv（定点医药机构）: 缺少必需的列：「机构类型」/);
    expect(error.problems.join("\n")).toMatch(/坏文件\.xlsx: .*无法读取 Excel 文件/);
  });
  it("bytes that are neither UTF-8 nor GBK, with the byte offset", async () => {
    const path = await writeFolder("bytes");
    await writeFile(
      join(path, "机构.csv"),
      Buffer.concat([Buffer.from("机构编码,"), Buffer.from([0xff, 0xfe, 0x81])])
    );
    const error = (await ingest([path], {today: "2024-09-30"}).catch((e: unknown) => e)) as IngestError;
    expect(error.problems).toEqual([
      expect.stringMatching(/机构\.csv: 无法识别的文件编码：既不是 UTF-8（第 13 字节无效）/)
    ]);
  });
});

describe("ingest() is deterministic and does not double-count", () => {
  const snapshot = (r: IngestResult) =>
    JSON.stringify({t: [...r.tables.entries()], rej: r.rejects, w: r.warnings, f: r.files}, (_, v) =>
      typeof v === "bigint" ? `${v}n` : v
    );
  it("gives identical results when run again and when files are named in another order", async () => {
    const path = join(dir, "messy");
    const again = await ingest([path], {today: "2024-09-30"});
    const names = [
      "周报.csv",
      "处理结果.csv",
      "兴庆区_违规问题.xlsx",
      "兴庆区_检查记录.csv",
      "专项行动.csv",
      "机构.csv",
      "区划.csv"
    ];
    const reordered = await ingest(
      names.map((n) => join(path, n)),
      {today: "2024-09-30"}
    );
    expect(snapshot(again)).toBe(snapshot(result));
    expect(snapshot(reordered)).toBe(snapshot(result));
  });
  it("skips a file sent twice, so totals are not doubled", async () => {
    const path = await writeFolder("twice");
    await copyFile(join(path, "处理结果.csv"), join(path, "处理结果（重发）.csv"));
    const twice = await ingest([path], {today: "2024-09-30"});
    expect(twice.files.find((f) => f.file === "处理结果（重发）.csv")).toMatchObject({
      duplicate_of: "处理结果.csv",
      rows_read: 0
    });
    expect(twice.tables.get("dispositions")).toHaveLength(3);
  });
  it("rejects a date in the future", async () => {
    const early = await ingest([join(dir, "messy")], {today: "2024-06-30"});
    expect(early.rejects.filter((r) => r.rule === "future-date").map((r) => [r.file, r.line])).toEqual([
      ["兴庆区_检查记录.csv", 5],
      ["周报.csv", 3]
    ]);
  });
});

describe("header matching and file naming", () => {
  it("tolerates spaces, full-width brackets, aliases and units in headers", () => {
    const m = mapHeaders(findings as never, [
      " 问题 编号 ",
      "检查编号",
      "问题类型",
      "违规金额（万元）",
      "医保基金支付金额(元)"
    ]);
    expect(m.missing).toEqual([]);
    expect([...m.fields.entries()].map(([f, v]) => [f, v.index, v.unit])).toEqual([
      ["id", 0, null],
      ["inspection_id", 1, null],
      ["category", 2, null],
      ["amount_involved", 3, "万元"],
      ["fund_paid", 4, "元"]
    ]);
  });
  it("reads named worksheets of one workbook with `文件.xlsx#工作表`", async () => {
    const path = join(dir, "sheets");
    await mkdir(path, {recursive: true});
    await writeFile(join(path, "区划.csv"), csv(DIVISIONS));
    await writeFile(join(path, "机构.csv"), csv(INSTITUTIONS));
    await writeFile(join(path, "专项行动.csv"), csv(CAMPAIGNS));
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet("填写说明").addRow(["本表由兴庆区医保局填报。"]);
    const a = wb.addWorksheet("检查记录");
    a.addRow(["检查编号", "机构编码", "检查日期", "检查方式", "行动编号", "是否发现问题"]);
    a.addRow(["JC1", "H64010400001", "2024-06-03", "专项检查", "ZX2024", "是"]);
    const b = wb.addWorksheet("违规问题");
    b.addRow(["问题编号", "检查编号", "违规类型", "涉及金额（元）"]);
    b.addRow(["WT1", "JC1", "串换药品", "12,946.92"]);
    const book = join(dir, "兴庆区报表.xlsx");
    await wb.xlsx.writeFile(book);
    const r = await ingest([path, `${book}#检查记录`, `${book}#违规问题`], {root: dir, today: "2024-09-30"});
    expect(
      r.files.filter((f) => f.format === "xlsx").map((f) => [f.file, f.sheet, f.dataset, f.rows_loaded])
    ).toEqual([
      ["兴庆区报表.xlsx#检查记录", "检查记录", "inspections", 1],
      ["兴庆区报表.xlsx#违规问题", "违规问题", "findings", 1]
    ]);
    expect(r.tables.get("findings")![0]).toMatchObject({id: "WT1", amount_involved: 1_294_692n});
    const missing = await ingest([path, `${book}#明细`], {root: dir}).catch((e: unknown) => e);
    expect((missing as IngestError).problems.join()).toMatch(
      /找不到工作表“明细”，文件中的工作表有：“填写说明”、“检查记录”、“违规问题”/
    );
  });
  it("reads the dataset from Chinese or English file names", () => {
    expect(datasetFromFileName("银川市_检查记录.csv")?.name).toBe("inspections");
    expect(datasetFromFileName("weekly_reports.csv")?.name).toBe("weekly_reports");
    expect(datasetFromFileName("石嘴山市_违规问题.xlsx")?.name).toBe("findings");
    expect(datasetFromFileName("随便.csv")).toBeUndefined();
  });
});

describe("the shared fixture of real published figures", () => {
  it("loads every figure the Yinchuan 2018 circular states, with values kept exactly", async () => {
    const path = join(dir, "fixture");
    await mkdir(path, {recursive: true});
    await writeFile(
      join(path, "区划.csv"),
      "\uFEFF" +
        csv([
          ...DIVISIONS.slice(0, 3),
          ["640104", "兴庆区", "640100", "县", "行政区划", "", "", "", ""],
          ["640105", "西夏区", "640100", "县", "行政区划", "", "", "", ""],
          ["640106", "金凤区", "640100", "县", "行政区划", "", "", "", ""],
          ["640121", "永宁县", "640100", "县", "行政区划", "", "", "", ""],
          ["640122", "贺兰县", "640100", "县", "行政区划", "", "", "", ""],
          ["640181", "灵武市", "640100", "县", "行政区划", "", "", "", ""],
          ["6401ND", "宁东能源化工基地", "640100", "县", "功能区", "", "", "", "宁东"],
          ["640199", "银川市本级", "640100", "县", "市本级", "", "", "", ""]
        ])
    );
    const fixture = join(import.meta.dirname, "..", "fixtures", "shared", "yinchuan-2018.csv");
    await copyFile(fixture, join(path, "figures.csv"));
    const loaded = await ingest([path], {today: "2024-09-30"});
    const figures = loaded.tables.get("figures")!;
    const lines = (await readFile(fixture, "utf-8")).trim().split("\n").length - 1;
    expect(loaded.rejects).toEqual([]);
    expect(figures).toHaveLength(lines);
    const get = (code: string, figure: string) =>
      figures.find((f) => f.unit_code === code && f.figure === figure)!;
    expect(get("640105", "amount_recovered")).toMatchObject({value: "24253.33", unit: "元"});
    expect(get("6401ND", "amount_recovered")).toMatchObject({
      value: "12946.92",
      unit_name: "宁东能源化工基地"
    });
    expect(get("640199", "outpatient_violation_amount_2018")).toMatchObject({value: "2114.5"});
    expect(get("640199", "records_reviewed_2018").note).toMatch(/lower bound/);
  });
  it("is the same file as ../shared/fixtures when that folder is beside the project", async () => {
    const shared = join(import.meta.dirname, "..", "..", "..", "shared", "fixtures", "yinchuan-2018.csv");
    const local = join(import.meta.dirname, "..", "fixtures", "shared", "yinchuan-2018.csv");
    const sharedText = await readFile(shared, "utf-8").catch(() => undefined);
    if (sharedText !== undefined) expect(await readFile(local, "utf-8")).toBe(sharedText);
    else expect(await readFile(local, "utf-8")).toMatch(/^unit_code,unit_name,figure,value,unit,note/);
  });
});
