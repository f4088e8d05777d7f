// Damaged submissions (issue 19, item 5): each defect as a small fixture written here, with the Chinese
// message it must get (file, row, column where they apply), rejected or warned as its kind deserves,
// never a crash, never a file, a field or a row dropped without a word.
import {mkdir, mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import ExcelJS from "exceljs";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {
  asOfDate,
  DEFAULT_AMOUNT_LIMITS,
  ingest,
  IngestError,
  type IngestOptions,
  type IngestResult,
  type LoadedRow
} from "../../loaders/ingest.js";
import {readXlsx} from "../../loaders/sources/xlsx.js";
import {encodeGbk} from "../../scripts/gen-data.js";
import {expandExponent, parseAmountFen, parseDate} from "../../src/parse/values.js";

let dir: string;
let folders = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-defects-"));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

const TODAY = "2024-09-30";
const lines = (...rows: string[]): string => rows.map((r) => `${r}\n`).join("");

/**
 * A small clean submission: three county-level divisions (兴庆区, 金凤区, 宁东), one institution each.
 * Latest date per division: 640104 2024-06-21 (CL2 via WT2→JC2), 640106 2024-06-21 (JC3, CL4),
 * 6401ND 2024-06-20 (CL3 via WT3→JC4); so the as-of date is the 2nd latest of 3 = 2024-06-21.
 */
const BASE: Record<string, string> = {
  "区划.csv": lines(
    "区划编码,区划名称,上级编码,层级,单位类型,定点医疗机构数,定点零售药店数,医保区划编码,别名",
    "640000,宁夏回族自治区,,省,行政区划,,,,",
    "640100,银川市,640000,市,行政区划,,,,",
    "640104,兴庆区,640100,县,行政区划,3,1,,兴庆",
    "640106,金凤区,640100,县,行政区划,2,0,,",
    "6401ND,宁东能源化工基地,640100,县,功能区,1,0,,宁东"
  ),
  "机构.csv": lines(
    "机构编码,机构名称,所属区划,机构类型,机构等级,经营性质",
    "H64010400001,兴庆甲医院,640104,医院,三级,公立",
    "H64010600001,金凤甲医院,640106,医院,二级,公立",
    "H64019000001,宁东医院,6401ND,医院,二级,公立"
  ),
  "专项行动.csv": lines(
    "行动编号,行动名称,开始日期,结束日期,第一阶段覆盖率目标,第一阶段目标截止,第二阶段覆盖率目标,第二阶段目标截止,住院单据复审比例目标,大案金额标准,大案报送时限",
    "ZX2024,2024年专项整治,2024-05-15,2024-11-30,80%,2024-08-31,100%,2024-10-31,5%,5万元,2"
  ),
  "检查记录.csv": lines(
    "检查编号,机构编码,检查日期,检查方式,行动编号,是否发现问题,审核单据数,复审单据数",
    "JC1,H64010400001,2024-06-03,专项检查,ZX2024,是,200,12",
    "JC2,H64010400001,2024-06-20,专项检查,ZX2024,是,,",
    "JC3,H64010600001,2024-06-21,专项检查,ZX2024,否,,",
    "JC4,H64019000001,2024-06-19,专项检查,ZX2024,是,,"
  ),
  "违规问题.csv": lines(
    "问题编号,检查编号,违规类型,涉及金额,基金支付金额,问题描述",
    "WT1,JC1,串换药品,12946.92,10357.54,",
    "WT2,JC2,过度诊疗,1000,800,",
    "WT3,JC4,重复收费,500,,"
  ),
  "处理结果.csv": lines(
    "处理编号,问题编号,检查编号,处理方式,处理金额,处理日期,上报日期",
    "CL1,WT1,,追回,12946.92,2024-06-10,2024-06-11",
    "CL2,WT2,,追回,1000,2024-06-21,",
    "CL3,WT3,,追回,500,2024-06-20,",
    "CL4,,JC3,约谈,,2024-06-21,"
  ),
  "周报.csv": lines(
    "区划,统计截止日期,行动编号,累计检查机构数,累计发现问题机构数,累计追回金额,累计罚款金额",
    "兴庆区,2024-06-14,ZX2024,1,1,12946.92,0",
    "金凤区,2024-06-14,ZX2024,0,0,0,0",
    "宁东,2024-06-14,ZX2024,0,0,0,0"
  )
};

/** A folder with the base files, some replaced (a Buffer or text), some removed (null), some added. */
async function folder(changes: Record<string, string | Buffer | null> = {}): Promise<string> {
  const path = join(dir, `f${++folders}`);
  await mkdir(path, {recursive: true});
  for (const [name, content] of Object.entries({...BASE, ...changes})) {
    if (content === null) continue;
    await mkdir(join(path, name, ".."), {recursive: true});
    await writeFile(join(path, name), content);
  }
  return path;
}

async function run(changes: Record<string, string | Buffer | null>, options: IngestOptions = {}) {
  return ingest([await folder(changes)], {today: TODAY, ...options});
}

/** The IngestError an ingest stops with (fails the test if it does not stop). */
async function stops(
  changes: Record<string, string | Buffer | null>,
  options: IngestOptions = {}
): Promise<IngestError> {
  const error = await run(changes, options).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(IngestError);
  return error as IngestError;
}

const issues = (list: IngestResult["rejects"], rule: string) =>
  list
    .filter((i) => i.rule === rule)
    .map((i) => ({file: i.file, line: i.line, column: i.column, value: i.value}));
const reasonOf = (list: IngestResult["rejects"], rule: string) => list.find((i) => i.rule === rule)?.reason;
const fileOf = (r: IngestResult, name: string) => r.files.find((f) => f.file === name);

describe("the clean base submission", () => {
  it("loads with nothing rejected or warned, as of 2024-06-21", async () => {
    const r = await run({});
    expect(r.rejects).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.skippedFiles).toEqual([]);
    expect(r.asOf).toBe("2024-06-21");
  });
});

describe("1. absurd and implausible amounts", () => {
  it("rejects 1e17 yuan (text or spreadsheet number) with amount-ceiling instead of crashing on BIGINT", async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("问题");
    ws.addRow(["问题编号", "检查编号", "违规类型", "涉及金额", "基金支付金额", "问题描述"]);
    ws.addRow(["WT1", "JC1", "串换药品", 12946.92, 10357.54, null]);
    ws.addRow(["WT2", "JC2", "过度诊疗", 1e17, null, null]);
    ws.addRow(["WT3", "JC4", "重复收费", 500, null, null]);
    const r = await run({
      "违规问题.csv": null,
      "违规问题.xlsx": Buffer.from(await wb.xlsx.writeBuffer()),
      "处理结果.csv": BASE["处理结果.csv"]!.replace(
        "CL1,WT1,,追回,12946.92",
        "CL1,WT1,,追回,100000000000000000"
      )
    });
    expect(issues(r.rejects, "amount-ceiling")).toEqual([
      {file: "处理结果.csv", line: 2, column: "处理金额", value: "100000000000000000"},
      {file: "违规问题.xlsx", line: 3, column: "涉及金额", value: "100000000000000000"}
    ]);
    // 1e17 元 = 10^19 分, shown exactly; the ceiling is 100亿元 = 10^12 分.
    expect(reasonOf(r.rejects, "amount-ceiling")).toBe(
      "金额过大：100,000,000,000,000,000.00元，超过上限 10,000,000,000.00元（可能多输了位数，或单位有误，如把元写成万元）"
    );
    const max = (rows: LoadedRow[], field: string) =>
      rows.reduce((m, row) => (typeof row[field] === "bigint" && row[field] > m ? row[field] : m), 0n);
    expect(max(r.tables.get("findings")!, "amount_involved")).toBeLessThanOrEqual(2n ** 63n - 1n);
    // CL1 (1e17) is rejected, CL2 goes with its rejected finding WT2: the largest left is CL3, 500元.
    expect(max(r.tables.get("dispositions")!, "amount")).toBe(50_000n);
    for (const f of r.files) expect(f.rows_read, f.file).toBe(f.rows_loaded + f.rows_rejected);
  });
  it("rejects 1e15 yuan, warns 2亿元 (kept), and refuses scientific notation typed as text", async () => {
    const r = await run({
      "违规问题.csv": lines(
        "问题编号,检查编号,违规类型,涉及金额,基金支付金额,问题描述",
        "WT1,JC1,串换药品,1000000000000000,,",
        "WT2,JC2,过度诊疗,2亿,,",
        "WT3,JC4,重复收费,1E+17,,"
      ),
      "处理结果.csv": null
    });
    expect(issues(r.rejects, "amount-ceiling")).toEqual([
      {file: "违规问题.csv", line: 2, column: "涉及金额", value: "1000000000000000"}
    ]);
    expect(issues(r.warnings, "amount-implausible")).toEqual([
      {file: "违规问题.csv", line: 3, column: "涉及金额", value: "2亿"}
    ]);
    expect(reasonOf(r.warnings, "amount-implausible")).toBe(
      "金额异常大：200,000,000.00元，达到核对线 100,000,000.00元，请核对位数和单位"
    );
    expect(r.tables.get("findings")!.map((f) => [f.id, f.amount_involved])).toEqual([
      ["WT2", 20_000_000_000n]
    ]);
    expect(r.rejects.find((i) => i.line === 4)).toMatchObject({
      file: "违规问题.csv",
      column: "涉及金额",
      value: "1E+17",
      rule: "invalid-amount_involved",
      reason: expect.stringMatching(
        /^金额是科学计数法：1E\+17（Excel 以科学计数法显示或导出时可能已丢掉后面的位数）/
      )
    });
  });
  it("takes the limits from the options, and refuses limits that are not limits", async () => {
    // Reject above 6万元 (6,000,000 分), warn from 1万元 (1,000,000 分): 7万 is rejected; 5万元 (the
    // big-case threshold), 12,946.92元 (1,294,692 分) and its fund-paid 10,357.54元 are warned; 1,000元 and 500元 pass.
    const r = await run(
      {"违规问题.csv": BASE["违规问题.csv"]!.replace("WT3,JC4,重复收费,500,", "WT3,JC4,重复收费,7万,")},
      {amountLimits: {rejectAboveFen: 6_000_000n, warnAboveFen: 1_000_000}}
    );
    expect(issues(r.rejects, "amount-ceiling")).toEqual([
      {file: "违规问题.csv", line: 4, column: "涉及金额", value: "7万"}
    ]);
    expect(issues(r.warnings, "amount-implausible").map((i) => [i.file, i.line, i.column])).toEqual([
      ["专项行动.csv", 2, "大案金额标准"],
      ["周报.csv", 2, "累计追回金额"],
      ["处理结果.csv", 2, "处理金额"],
      ["违规问题.csv", 2, "基金支付金额"],
      ["违规问题.csv", 2, "涉及金额"]
    ]);
    const error = await stops({}, {amountLimits: {rejectAboveFen: 2n ** 63n, warnAboveFen: 10}});
    expect(error.problems).toEqual([
      "金额限额 rejectAboveFen 应在 0 到 9223372036854775807（分）之间：9223372036854775808"
    ]);
    expect(DEFAULT_AMOUNT_LIMITS).toEqual({rejectAboveFen: 10n ** 12n, warnAboveFen: 10n ** 10n});
  });
  it("rejects a count that an INTEGER column cannot hold", async () => {
    const r = await run({
      "周报.csv": BASE["周报.csv"]!.replace(
        "金凤区,2024-06-14,ZX2024,0,0",
        "金凤区,2024-06-14,ZX2024,3000000000,0"
      )
    });
    expect(r.rejects).toEqual([
      expect.objectContaining({
        file: "周报.csv",
        line: 3,
        column: "累计检查机构数",
        rule: "invalid-institutions_inspected",
        reason: "数量过大：3000000000（超过可存储的上限 2,147,483,647）"
      })
    ]);
  });
  it("parses money digit for digit, never through a float", () => {
    expect(parseAmountFen(1e17)).toEqual({ok: true, value: 10n ** 19n});
    expect(parseAmountFen("100000000000000000")).toEqual({ok: true, value: 10n ** 19n});
    expect(parseAmountFen("12345678901234567.89")).toEqual({ok: true, value: 1234567890123456789n});
    expect(parseAmountFen(1e21)).toEqual({ok: true, value: 10n ** 23n});
    // 1e-7 元 is finer than a fen: refused, not rounded to 0.
    expect(parseAmountFen(1e-7)).toMatchObject({ok: false, reason: "金额精度超过分：0.0000001"});
    for (const text of ["1e17", "1E+17", "１Ｅ１７", "2.5e3万元"])
      expect(parseAmountFen(text)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^金额是科学计数法/)
      });
    expect(expandExponent("1.5e-7")).toBe("0.00000015");
    expect(expandExponent("1.2345e2")).toBe("123.45");
    expect(expandExponent("-2e+3")).toBe("-2000");
    expect(expandExponent("12.5")).toBe("12.5");
  });
});

describe("2. no file is passed over silently", () => {
  it("reads a .csv whose name starts with a dot, and lists lock files, hidden folders and other files as skipped", async () => {
    const appleDouble = Buffer.concat([Buffer.from([0x00, 0x05, 0x16, 0x07]), Buffer.alloc(60)]);
    const r = await run({
      "..%2f检查记录.csv": lines(
        "检查编号,机构编码,检查日期,检查方式,行动编号,是否发现问题,审核单据数,复审单据数",
        "JC9,H64010600001,2024-06-18,日常检查,,否,,"
      ),
      "~$违规问题.xlsx": Buffer.from([0x0b, 0x00, 0x41, 0x00]),
      "._处理结果.csv": appleDouble,
      ".git/config": "[core]\n",
      "银川市_检查记录.xls": Buffer.from("d0cf11e0a1b11ae1", "hex"),
      "说明.docx": "x",
      "报表.zip": "PK"
    });
    expect(fileOf(r, "..%2f检查记录.csv")).toMatchObject({
      dataset: "inspections",
      rows_read: 1,
      rows_loaded: 1
    });
    expect(r.tables.get("inspections")!.map((i) => i.id)).toContain("JC9");
    expect(r.skippedFiles).toEqual([
      {
        file: "._处理结果.csv",
        reason:
          "macOS 的附属文件（._ 开头的 AppleDouble 资源文件，随压缩包或 U 盘复制产生），不是数据，未读取",
        reason_en: "macOS AppleDouble resource file, not data"
      },
      {
        file: ".git",
        reason: "隐藏目录（名称以 . 开头，多为工具生成），其中的文件未读取",
        reason_en: "hidden folder, not read"
      },
      {
        file: "~$违规问题.xlsx",
        reason: "Excel 的临时锁定文件（~$ 开头，Excel 打开工作簿时自动生成），不是数据，未读取",
        reason_en: "Excel lock file, not data"
      },
      {
        file: "报表.zip",
        reason: "压缩包（.zip）未解压，其中的文件未读取：请解压后放入输入目录",
        reason_en: "archive .zip not unpacked"
      },
      {file: "说明.docx", reason: "不是 .csv 或 .xlsx 文件，未读取", reason_en: "not a .csv or .xlsx file"},
      {
        file: "银川市_检查记录.xls",
        reason: "不支持的表格格式（.xls），未读取：请在 Excel 或 WPS 中另存为 .xlsx（或 CSV）后重新报送",
        reason_en: "unsupported spreadsheet format .xls: save as .xlsx"
      }
    ]);
  });
  it("lists the skipped files in the error too, when the ingest stops", async () => {
    const error = await stops({"区划.csv": Buffer.from([0xff, 0xfe, 0x81, 0x0a]), "~$周报.xlsx": "x"});
    expect(error.partial.skippedFiles.map((s) => s.file)).toEqual(["~$周报.xlsx"]);
    // The files read before the stop are summarized as well.
    expect(error.partial.files.map((f) => f.file)).toContain("处理结果.csv");
  });
});

describe("3. values beyond the header's columns", () => {
  it("rejects a CSV row of 200 fields, naming the row and the first extra column", async () => {
    const wide = [
      "JC5",
      "H64010400001",
      "2024-06-18",
      "专项检查",
      "ZX2024",
      "否",
      "",
      "",
      "多余",
      ...Array(191).fill("x")
    ];
    expect(wide).toHaveLength(200);
    const r = await run({"检查记录.csv": BASE["检查记录.csv"] + lines(wide.join(","))});
    expect(r.rejects).toEqual([
      {
        file: "检查记录.csv",
        sheet: null,
        line: 6,
        column: "第 9 列",
        value: "多余",
        reason: "表头之外还有值：第 9 列（表头只有 8 列）为「多余」；可能多了分隔符或值错位，整行未载入",
        reason_en: "value beyond the header's 8 columns, in column 9",
        rule: "extra-fields"
      }
    ]);
    expect(fileOf(r, "检查记录.csv")).toMatchObject({rows_read: 5, rows_loaded: 4, rows_rejected: 1});
  });
  it("rejects an XLSX row with a value to the right of the table, and keeps a note beside it as a note", async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("问题");
    ws.addRow(["问题编号", "检查编号", "违规类型", "涉及金额", "基金支付金额", "问题描述"]);
    ws.addRow(["WT1", "JC1", "串换药品", 12946.92, 10357.54, null, null, null, null, "已追回"]);
    ws.addRow(["WT2", "JC2", "过度诊疗", 1000, 800]);
    ws.addRow(["WT3", "JC4", "重复收费", 500]);
    ws.getCell("H6").value = "注：金额单位为元";
    const r = await run({"违规问题.csv": null, "违规问题.xlsx": Buffer.from(await wb.xlsx.writeBuffer())});
    expect(r.rejects.filter((i) => i.rule === "extra-fields")).toEqual([
      {
        file: "违规问题.xlsx",
        sheet: "问题",
        line: 2,
        column: "第 10 列（J 列）",
        value: "已追回",
        reason:
          "表头之外还有值：第 10 列（J 列）（表头只有 6 列）为「已追回」；可能多了分隔符或值错位，整行未载入",
        reason_en: "value beyond the header's 6 columns, in column 10",
        rule: "extra-fields"
      }
    ]);
    expect(r.warnings.map((w) => [w.line, w.rule, w.value])).toEqual([[6, "note-row", "注：金额单位为元"]]);
  });
  it("rejects a value under a column with no header", async () => {
    const r = await run({
      "违规问题.csv": lines(
        "问题编号,检查编号,违规类型,涉及金额,,问题描述",
        "WT1,JC1,串换药品,12946.92,,",
        "WT2,JC2,过度诊疗,1000,800,",
        "WT3,JC4,重复收费,500,,"
      )
    });
    expect(issues(r.rejects, "extra-fields")).toEqual([
      {file: "违规问题.csv", line: 3, column: "第 5 列", value: "800"}
    ]);
    expect(reasonOf(r.rejects, "extra-fields")).toBe(
      "第 5 列没有表头，却有值「800」；可能值错位，整行未载入"
    );
  });
});

describe("4. a CSV cut off at its end", () => {
  const header = "处理编号,问题编号,检查编号,处理方式,处理金额,处理日期,上报日期";
  const body = BASE["处理结果.csv"]!;
  it("rejects a last row cut inside a value (fewer fields, no final line break)", async () => {
    const r = await run({"处理结果.csv": body + "CL5,WT3,,扣回,5"});
    expect(r.rejects).toEqual([
      expect.objectContaining({line: 6, rule: "required", column: "处理日期"}),
      {
        file: "处理结果.csv",
        sheet: null,
        line: 6,
        column: "处理金额",
        value: "5",
        reason:
          "文件可能被截断：文件最后一行没有换行结尾，且只有 5 列（表头有 7 列，其他各行都齐全），最后一个值可能不完整",
        reason_en: "file may be truncated: the last line has no line break and only 5 of 7 fields",
        rule: "truncated-file"
      }
    ]);
  });
  it("rejects a last value whose opening quote is never closed", async () => {
    const r = await run({"处理结果.csv": body + 'CL5,WT3,,扣回,"5,0'});
    expect(issues(r.rejects, "truncated-file")).toEqual([
      {file: "处理结果.csv", line: 6, column: "处理金额", value: "5,0"}
    ]);
    expect(reasonOf(r.rejects, "truncated-file")).toBe(
      '文件可能被截断：最后一个值以引号（"）开头却没有结束引号，此值可能不完整'
    );
  });
  it("stops when an unclosed quote swallows the lines after it", async () => {
    const error = await stops({"处理结果.csv": body + 'CL5,WT3,,扣回,"5\nCL6,WT3,,扣回,6,2024-06-20,\n'});
    expect(error.problems).toEqual([
      '处理结果.csv: 第 6 行有一个以引号（"）开头的值没有结束引号，其后直到文件末尾第 7 行都被读成了这一个值：文件可能被截断，或此处多了一个引号。请检查该行后重新导出'
    ]);
  });
  it("loads a complete last row without a final line break, and a short one when the writer leaves out empty fields everywhere", async () => {
    const full = await run({"处理结果.csv": body + "CL5,WT3,,扣回,5,2024-06-20,"});
    expect(full.rejects).toEqual([]);
    expect(fileOf(full, "处理结果.csv")).toMatchObject({rows_read: 5, rows_loaded: 5});
    const trimmed = await run({
      "处理结果.csv": [
        header,
        "CL1,WT1,,追回,12946.92,2024-06-10,2024-06-11",
        "CL4,,JC3,约谈,,2024-06-21",
        "CL5,WT3,,扣回,5,2024-06-20"
      ].join("\n")
    });
    expect(trimmed.rejects).toEqual([]);
    expect(fileOf(trimmed, "处理结果.csv")).toMatchObject({rows_read: 3, rows_loaded: 3});
  });
  it("says a file cut inside a multi-byte character may be truncated (UTF-8 and GBK)", async () => {
    const utf8 = Buffer.from(body + "CL5,WT3,,扣回");
    const cutUtf8 = await stops({"处理结果.csv": utf8.subarray(0, utf8.length - 2)});
    // "回" is 3 bytes in UTF-8: with 2 cut off, its first byte stands alone at offset length - 3.
    expect(cutUtf8.problems).toEqual([
      `处理结果.csv: 文件末尾的字符不完整（字节偏移 ${utf8.length - 3} 处起只有半个 UTF-8 字符，偏移从 0 起算）：文件可能被截断，请重新导出或重新发送`
    ]);
    const gbk = encodeGbk(body + "CL5,WT3,,扣回");
    const cutGbk = await stops({"处理结果.csv": gbk.subarray(0, gbk.length - 1)});
    expect(cutGbk.problems).toEqual([
      `处理结果.csv: 文件末尾的字符不完整（GBK 编码的最后一个字符只有一部分，在字节偏移 ${gbk.length - 2} 附近）：文件可能被截断，请重新导出或重新发送`
    ]);
  });
});

describe("5. a UTF-8 BOM before GBK bytes", () => {
  it("is an encoding error with the offset of the first bad byte, not 找不到表头", async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), encodeGbk(BASE["处理结果.csv"]!)]);
    const error = await stops({"处理结果.csv": bytes});
    // "处" in GBK is B4 A6: B4 cannot start a UTF-8 character; it is the first byte after the BOM (offset 3).
    expect(error.problems).toEqual([
      "处理结果.csv: 文件编码错误：文件以 UTF-8 的 BOM（EF BB BF）开头，但字节偏移 3 处（从 0 起算，值为 0xB4）起不是有效的 UTF-8，可能是 GBK 内容前被加了 BOM。请另存为 UTF-8 编码（或不带 BOM 的 GBK 编码）的 CSV"
    ]);
  });
});

/** A zip of stored entries (no CRC: enough for the central directory to be read). */
function zipOf(names: string[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const name of names) {
    const bytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(bytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(bytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, bytes);
    centrals.push(central, bytes);
    offset += 30 + bytes.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(names.length, 8);
  end.writeUInt16LE(names.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

describe("6. an .xlsx that is not a workbook", () => {
  const isHeaderRow = () => true;
  async function problemOf(bytes: Buffer | string): Promise<string> {
    const path = join(dir, `bad-${++folders}.xlsx`);
    await writeFile(path, bytes);
    const error = (await readXlsx(path, {isHeaderRow}).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message.startsWith(`${path}: 无法读取 Excel 文件`)).toBe(true);
    return error.message.slice(error.message.indexOf("不是有效的 Excel 工作簿（.xlsx）："));
  }
  it("says in Chinese why: empty, text, web page, PDF, old .xls, Word, cut-off zip", async () => {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet("a").addRow(["x", 1]);
    const good = Buffer.from(await wb.xlsx.writeBuffer());
    const cases: [Buffer | string, string][] = [
      ["", "文件为空（0 字节）"],
      [
        "检查编号,机构编码\nJC1,H64010400001\n",
        "文件不是 zip 压缩包，内容是文本（可能是 CSV 或 TXT 文件改成了 .xlsx 扩展名；CSV 请保留 .csv 扩展名）"
      ],
      [
        "<html><body><table><tr><td>1</td></tr></table></body></html>",
        "文件内容是网页（HTML）或 XML 文本，不是 .xlsx（有的系统导出的“Excel”其实是网页，请用 Excel 打开后另存为 .xlsx）"
      ],
      ["%PDF-1.7\n", "文件是 PDF 文档，不是 Excel 工作簿"],
      [
        Buffer.concat([Buffer.from("d0cf11e0a1b11ae1", "hex"), Buffer.alloc(504)]),
        "文件是旧版 Office 格式（OLE2：Excel 97-2003 的 .xls、Word 的 .doc，或设置了打开密码的工作簿），请在 Excel 中另存为 .xlsx"
      ],
      [zipOf(["[Content_Types].xml", "word/document.xml"]), "这是 Word 文档（.docx）改成了 .xlsx 扩展名"],
      [
        zipOf(["[Content_Types].xml", "ppt/presentation.xml"]),
        "这是 PowerPoint 演示文稿（.pptx）改成了 .xlsx 扩展名"
      ],
      [zipOf(["readme.txt"]), "这是 zip 压缩包，但其中没有 Excel 工作簿（缺少 xl/workbook.xml）"],
      [
        good.subarray(0, good.length - 10),
        "zip 压缩包不完整（找不到结尾的文件目录），文件可能被截断，或在传输、解压中损坏"
      ],
      [
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]),
        "文件不是 zip 压缩包（.xlsx 文件以 PK 开头），可能是其他类型的文件改了扩展名"
      ]
    ];
    for (const [bytes, reason] of cases)
      expect(await problemOf(bytes)).toBe(`不是有效的 Excel 工作簿（.xlsx）：${reason}`);
  });
  it("names the file in the ingest's problems, the library's words only in brackets", async () => {
    const error = await stops({"周报.csv": null, "周报.xlsx": ""});
    expect(error.problems).toEqual([
      expect.stringMatching(
        /^周报\.xlsx: 无法读取 Excel 文件（[^）]*）。不是有效的 Excel 工作簿（\.xlsx）：文件为空（0 字节）$/
      )
    ]);
  });
});

describe("7. the as-of date is the latest date most divisions have reached", () => {
  const late = BASE["检查记录.csv"] + lines("JC5,H64019000001,2024-08-30,专项检查,ZX2024,否,,");
  it("is not moved by one inspection weeks after the others, which is warned", async () => {
    const r = await run({"检查记录.csv": late});
    // Latest per division: 640104 06-21, 640106 06-21, 6401ND 08-30 (JC5): the 2nd latest of 3 is 06-21.
    expect(r.asOf).toBe("2024-06-21");
    expect(r.asOfNote).toBe("3 个报送区划中有 3 个的数据已到 2024-06-21（取至少半数区划已到的最晚日期）");
    expect(r.warnings).toEqual([
      {
        file: "检查记录.csv",
        sheet: null,
        line: 6,
        column: "检查日期",
        value: "2024-08-30",
        reason:
          "日期 2024-08-30 晚于数据截至日期 2024-06-21（3 个报送区划中有 3 个的数据已到 2024-06-21（取至少半数区划已到的最晚日期））；此行照常载入，请核对日期是否填错",
        reason_en: "dated after the data's as-of date 2024-06-21",
        rule: "after-as-of"
      }
    ]);
    expect(r.tables.get("inspections")!.map((i) => i.id)).toContain("JC5");
  });
  it("is the stated cut-off when one is given", async () => {
    const r = await run({"检查记录.csv": late}, {asOfCutoff: "2024-09-27"});
    expect([r.asOf, r.asOfNote, r.warnings]).toEqual(["2024-09-27", "按指定的数据截至日期 2024-09-27", []]);
    const early = await run({}, {asOfCutoff: "2024-06-20"});
    expect(early.warnings.map((w) => [w.file, w.line, w.column])).toEqual([
      ["处理结果.csv", 3, "处理日期"],
      ["处理结果.csv", 5, "处理日期"],
      ["检查记录.csv", 4, "检查日期"]
    ]);
    expect((await stops({}, {asOfCutoff: "2024-02-30"})).problems).toEqual([
      "asOfCutoff（数据截至日期） 应为 YYYY-MM-DD 格式的日期：2024-02-30"
    ]);
  });
  it("follows its rule for ties, an even count, one division and none", () => {
    const tables = (weekly: [string, string][]) =>
      new Map<string, LoadedRow[]>([
        [
          "weekly_reports",
          weekly.map(([division_code, week_ending], i) => ({
            division_code,
            week_ending,
            source_file: "w.csv",
            source_line: i + 2
          }))
        ]
      ]);
    // Four divisions, latest 09-27, 09-27, 09-20, 09-13: the 2nd latest (⌈4/2⌉ = 2) is 09-27.
    expect(
      asOfDate(
        tables([
          ["a", "2024-09-13"],
          ["b", "2024-09-27"],
          ["c", "2024-09-20"],
          ["d", "2024-09-27"],
          ["d", "2024-09-06"]
        ])
      )
    ).toEqual({
      date: "2024-09-27",
      note: "4 个报送区划中有 2 个的数据已到 2024-09-27（取至少半数区划已到的最晚日期）"
    });
    // Four divisions, latest 09-27, 09-20, 09-13, 09-06: the 2nd latest is 09-20.
    expect(
      asOfDate(
        tables([
          ["a", "2024-09-06"],
          ["b", "2024-09-27"],
          ["c", "2024-09-20"],
          ["d", "2024-09-13"]
        ])
      ).date
    ).toBe("2024-09-20");
    expect(
      asOfDate(
        tables([
          ["a", "2024-09-06"],
          ["a", "2024-09-13"]
        ])
      ).date
    ).toBe("2024-09-13");
    expect(asOfDate(tables([]))).toEqual({date: null, note: "没有带日期的数据"});
  });
});

describe("8. dates before the earliest date", () => {
  it("rejects Excel's zero dates and other early dates with date-too-early", async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("检查");
    ws.addRow(["检查编号", "机构编码", "检查日期", "检查方式", "行动编号", "是否发现问题"]);
    ws.addRow(["JC1", "H64010400001", new Date(Date.UTC(2024, 5, 3)), "专项检查", "ZX2024", "是"]);
    ws.addRow(["JC2", "H64010400001", new Date(Date.UTC(2024, 5, 20)), "专项检查", "ZX2024", "是"]);
    ws.addRow(["JC3", "H64010600001", new Date(Date.UTC(2024, 5, 21)), "专项检查", "ZX2024", "否"]);
    ws.addRow(["JC4", "H64019000001", new Date(Date.UTC(2024, 5, 19)), "专项检查", "ZX2024", "是"]);
    ws.addRow(["JC5", "H64019000001", new Date(Date.UTC(1899, 11, 30)), "专项检查", "", "否"]);
    ws.getColumn(3).numFmt = "yyyy-mm-dd";
    const r = await run({
      "检查记录.csv": null,
      "检查记录.xlsx": Buffer.from(await wb.xlsx.writeBuffer()),
      "处理结果.csv": BASE["处理结果.csv"]!.replace(
        "CL4,,JC3,约谈,,2024-06-21,",
        "CL4,,JC3,约谈,,1900-01-01,"
      )
    });
    expect(issues(r.rejects, "date-too-early")).toEqual([
      {file: "处理结果.csv", line: 5, column: "处理日期", value: "1900-01-01"},
      {file: "检查记录.xlsx", line: 6, column: "检查日期", value: "1899-12-30"}
    ]);
    expect(reasonOf(r.rejects, "date-too-early")).toBe(
      "日期早于 2000-01-01：1900-01-01（1900-01-01、1899-12-30、1899-12-31 是 Excel 的“零日期”，多为空单元格或 0 被设成了日期格式）"
    );
    expect(parseDate("1899-12-31")).toEqual({ok: true, value: "1899-12-31"});
  });
  it("takes the earliest date from the options, for campaign dates too", async () => {
    const r = await run({}, {earliestDate: "2024-06-01"});
    expect(issues(r.rejects, "date-too-early").map((i) => [i.file, i.line, i.column])).toEqual([
      ["专项行动.csv", 2, "开始日期"]
    ]);
  });
  it("rejects a 上报日期 before its 处理日期 (an existing rule)", async () => {
    const r = await run({
      "处理结果.csv": BASE["处理结果.csv"]!.replace("2024-06-10,2024-06-11", "2024-06-10,2024-06-09")
    });
    expect(issues(r.rejects, "reported-after-decided")).toEqual([
      {file: "处理结果.csv", line: 2, column: "上报日期", value: "2024-06-09"}
    ]);
  });
});

describe("9. two versions of one submission", () => {
  const changed = BASE["处理结果.csv"]!.replace("CL2,WT2,,追回,1000,", "CL2,WT2,,追回,100,");
  it("stops, naming both files, the shared keys, the rows that differ and the first difference", async () => {
    const error = await stops({"处理结果（修改）.csv": changed});
    expect(error.problems).toEqual([
      "处理结果.csv 与 处理结果（修改）.csv 像是同一份处理结果的两个版本：两者有 4 个相同的处理编号（占较小文件 4 个的 100%），其中 1 行内容不同（第一处：处理结果（修改）.csv 第 3 行「处理金额」为「100」，处理结果.csv 第 3 行为「1000」）。请只保留其中一个文件（删除或移走另一个）后重新运行"
    ]);
    expect(error.partial.files.map((f) => f.file)).toContain("处理结果（修改）.csv");
  });
  it("stops for a re-saved copy with the same rows too, but not for a byte copy or a small overlap", async () => {
    const resaved = await stops({"处理结果_GBK.csv": encodeGbk(BASE["处理结果.csv"]!)});
    expect(resaved.problems[0]).toMatch(
      /两者有 4 个相同的处理编号（占较小文件 4 个的 100%），这些行内容完全相同（只是编码、格式或行序不同）/
    );
    const copy = await run({"处理结果_副本.csv": BASE["处理结果.csv"]!});
    expect(fileOf(copy, "处理结果_副本.csv")).toMatchObject({duplicate_of: "处理结果.csv", rows_read: 0});
    // One key of 3 shared (33% < 50%): an ordinary duplicate row, rejected as today.
    const overlap = await run({
      "处理结果_补报.csv": lines(
        "处理编号,问题编号,检查编号,处理方式,处理金额,处理日期,上报日期",
        "CL4,,JC3,约谈,,2024-06-21,",
        "CL5,WT3,,扣回,5,2024-06-20,",
        "CL6,,JC1,约谈,,2024-06-12,"
      )
    });
    expect(issues(overlap.rejects, "duplicate-key")).toEqual([
      {file: "处理结果_补报.csv", line: 2, column: "处理编号", value: "CL4"}
    ]);
  });
});

describe("10. nothing crashes", () => {
  it("turns every file's problem into a message naming it, all at once, with what was read", async () => {
    const error = await stops({
      "周报.csv": null,
      "周报.xlsx": "not a zip",
      "机构.csv": Buffer.from([0xef, 0xbb, 0xbf, 0xc7, 0xf8]),
      "处理结果.csv": BASE["处理结果.csv"] + 'CL5,"x\nCL6,y\n'
    });
    expect(error.problems.map((p) => p.slice(0, p.indexOf(":")))).toEqual([
      "周报.xlsx",
      "处理结果.csv",
      "机构.csv"
    ]);
    expect(error.message).toMatch(/^输入文件有 3 个结构性问题，未生成数据：/);
    expect(error.partial.files.map((f) => f.file)).toEqual(
      ["专项行动.csv", "区划.csv", "检查记录.csv", "违规问题.csv"].sort()
    );
  });
});
