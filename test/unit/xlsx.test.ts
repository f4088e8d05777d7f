import {createHash} from "node:crypto";
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {crc32} from "node:zlib";
import ExcelJS from "exceljs";
import type {CellValue, Workbook, Worksheet} from "exceljs";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {readXlsx} from "../../loaders/sources/xlsx.js";

let dir: string;
let fileCount = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-xlsx-"));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

/** Builds a workbook with exceljs, writes it to the temp folder and returns its path. */
async function workbookFile(build: (workbook: Workbook) => void): Promise<string> {
  const workbook = new ExcelJS.Workbook();
  build(workbook);
  const path = join(dir, `wb-${++fileCount}.xlsx`);
  await workbook.xlsx.writeFile(path);
  return path;
}

/** Adds rows to a sheet, starting at row 1. */
function fill(sheet: Worksheet, rows: unknown[][]): void {
  rows.forEach((row, i) => {
    row.forEach((value, j) => {
      if (value !== undefined) sheet.getCell(i + 1, j + 1).value = value as CellValue;
    });
  });
}

const hasUnitCode = (texts: string[]): boolean => texts.includes("单位编码");
const utc = (y: number, m: number, d: number): Date => new Date(Date.UTC(y, m - 1, d));

describe("readXlsx: sheets", () => {
  const build = (workbook: Workbook): void => {
    fill(workbook.addWorksheet("检查记录"), [
      ["单位编码", "追回金额"],
      ["640104001", 1200]
    ]);
    fill(workbook.addWorksheet("汇总"), [
      ["单位编码", "合计"],
      ["640100", 5000]
    ]);
  };

  it("reads the first worksheet by default, with path, hash and format", async () => {
    const path = await workbookFile(build);
    const table = await readXlsx(path, {isHeaderRow: hasUnitCode});
    expect(table).toEqual({
      file: path,
      sheet: "检查记录",
      sha256: createHash("sha256")
        .update(await readFile(path))
        .digest("hex"),
      format: "xlsx",
      headerLine: 1,
      headers: ["单位编码", "追回金额"],
      groups: ["", ""],
      rows: [{line: 2, cells: ["640104001", 1200]}],
      date1904: false
    });
    expect(table.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reads a sheet by name", async () => {
    const path = await workbookFile(build);
    const table = await readXlsx(path, {sheet: "汇总", isHeaderRow: hasUnitCode});
    expect(table.sheet).toBe("汇总");
    expect(table.headers).toEqual(["单位编码", "合计"]);
    expect(table.rows).toEqual([{line: 2, cells: ["640100", 5000]}]);
  });

  it("passes over an instructions sheet in front, and names every sheet when none has a header", async () => {
    const path = await workbookFile((workbook) => {
      fill(workbook.addWorksheet("填写说明"), [
        ["请按下表填写，金额单位为元。"],
        ["单位编码为六位区划代码。"]
      ]);
      build(workbook);
    });
    const table = await readXlsx(path, {isHeaderRow: hasUnitCode});
    expect(table.sheet).toBe("检查记录");
    expect(table.rows).toEqual([{line: 2, cells: ["640104001", 1200]}]);
    await expect(readXlsx(path, {isHeaderRow: () => false})).rejects.toThrow(
      new Error(`${path}（3 个工作表：“填写说明”、“检查记录”、“汇总”）: 前 30 行中找不到表头`)
    );
  });

  it("names the file, the sheet and the sheets that exist when a named sheet is missing", async () => {
    const path = await workbookFile(build);
    await expect(readXlsx(path, {sheet: "明细", isHeaderRow: hasUnitCode})).rejects.toThrow(
      new Error(`${path}: 找不到工作表“明细”，文件中的工作表有：“检查记录”、“汇总”`)
    );
  });
});

describe("readXlsx: finding the header", () => {
  it("skips title rows above the header, NFKC-normalizes and trims header texts", async () => {
    const path = await workbookFile((workbook) => {
      const sheet = workbook.addWorksheet("Sheet1");
      fill(sheet, [
        ["2024年打击欺诈骗保专项行动检查记录表"],
        ["填报单位：银川市医疗保障局  填报日期：2024年9月30日"],
        ["单位编码", " 单位名称 ", "追回金额（元）", "备注"],
        ["640104001", "兴庆区人民医院", 1200.5, "已追回"],
        ["640104002", "金凤区中医院", 300, undefined]
      ]);
      sheet.mergeCells("A1:D1");
    });
    const table = await readXlsx(path, {isHeaderRow: hasUnitCode});
    expect(table.headerLine).toBe(3);
    expect(table.headers).toEqual(["单位编码", "单位名称", "追回金额(元)", "备注"]);
    expect(table.groups).toEqual(["", "", "", ""]);
    expect(table.rows).toEqual([
      {line: 4, cells: ["640104001", "兴庆区人民医院", 1200.5, "已追回"]},
      {line: 5, cells: ["640104002", "金凤区中医院", 300, null]}
    ]);
  });

  it("passes the row texts, merged cells resolved, to isHeaderRow until it accepts one", async () => {
    const path = await workbookFile((workbook) => {
      const sheet = workbook.addWorksheet("Sheet1");
      fill(sheet, [["检查记录表"], [], ["单位编码", "金额"]]);
      sheet.mergeCells("A1:C1");
    });
    const seen: string[][] = [];
    const isHeaderRow = (texts: string[]): boolean => {
      seen.push(texts);
      return hasUnitCode(texts);
    };
    await readXlsx(path, {isHeaderRow});
    expect(seen).toEqual([
      ["检查记录表", "检查记录表", "检查记录表"],
      ["单位编码", "金额"]
    ]);
  });

  it("counts columns up to the last non-empty header cell", async () => {
    const path = await workbookFile((workbook) => {
      fill(workbook.addWorksheet("Sheet1"), [
        ["单位编码", undefined, "金额"],
        ["640104001", "x", 5, "ignored beyond the header"]
      ]);
    });
    const table = await readXlsx(path, {isHeaderRow: hasUnitCode});
    expect(table.headers).toEqual(["单位编码", "", "金额"]);
    expect(table.groups).toEqual(["", "", ""]);
    expect(table.rows).toEqual([{line: 2, cells: ["640104001", "x", 5]}]);
  });

  it("searches the first 30 rows only, and says 找不到表头 naming the file when none matches", async () => {
    const at = (row: number) => (workbook: Workbook) => {
      workbook.addWorksheet("明细").getCell(row, 1).value = "单位编码";
      workbook.getWorksheet("明细")!.getCell(row + 1, 1).value = "640104001";
    };
    const row30 = await workbookFile(at(30));
    expect((await readXlsx(row30, {isHeaderRow: hasUnitCode})).headerLine).toBe(30);

    const row31 = await workbookFile(at(31));
    await expect(readXlsx(row31, {isHeaderRow: hasUnitCode})).rejects.toThrow(
      new Error(`${row31}（工作表“明细”）: 前 30 行中找不到表头`)
    );
    await expect(readXlsx(row30, {isHeaderRow: () => false})).rejects.toThrow("找不到表头");
  });
});

describe("readXlsx: two-row merged headers", () => {
  const build = (workbook: Workbook): void => {
    const sheet = workbook.addWorksheet("Sheet1");
    fill(sheet, [
      ["2024年打击欺诈骗保专项行动检查记录表"],
      ["填报单位：银川市医疗保障局  填报日期：2024年9月30日"],
      ["单位编码", "单位名称", "金额", undefined, "备注"],
      [undefined, undefined, "追回(元)", "罚款(元)"],
      ["640104001", "兴庆区人民医院", 1200, 300, "限期整改"],
      ["640104002", "金凤区中医院", 0, 50]
    ]);
    sheet.mergeCells("A1:E1");
    sheet.mergeCells("A3:A4");
    sheet.mergeCells("B3:B4");
    sheet.mergeCells("C3:D3");
    sheet.mergeCells("E3:E4");
  };

  it("takes the lower row as the header and the merged row above as groups", async () => {
    const path = await workbookFile(build);
    const seen: string[][] = [];
    const isHeaderRow = (texts: string[]): boolean => {
      seen.push(texts);
      return texts.includes("追回(元)");
    };
    const table = await readXlsx(path, {isHeaderRow});
    expect(seen[3]).toEqual(["单位编码", "单位名称", "追回(元)", "罚款(元)", "备注"]);
    expect(table.headerLine).toBe(4);
    expect(table.headers).toEqual(["单位编码", "单位名称", "追回(元)", "罚款(元)", "备注"]);
    expect(table.groups).toEqual(["", "", "金额", "金额", ""]);
    expect(table.rows).toEqual([
      {line: 5, cells: ["640104001", "兴庆区人民医院", 1200, 300, "限期整改"]},
      {line: 6, cells: ["640104002", "金凤区中医院", 0, 50, null]}
    ]);
  });

  it("never takes a full-width title row as a group row", async () => {
    const path = await workbookFile((workbook) => {
      const sheet = workbook.addWorksheet("Sheet1");
      fill(sheet, [["2024年检查记录表"], ["单位编码", "追回(元)", "罚款(元)"], ["640104001", 1, 2]]);
      sheet.mergeCells("A1:C1");
    });
    const table = await readXlsx(path, {isHeaderRow: hasUnitCode});
    expect(table.headerLine).toBe(2);
    expect(table.groups).toEqual(["", "", ""]);
  });

  it("takes no groups from an unmerged row above the header", async () => {
    const path = await workbookFile((workbook) => {
      fill(workbook.addWorksheet("Sheet1"), [
        ["填报单位：银川市医疗保障局", undefined, "单位：元"],
        ["单位编码", "追回(元)", "罚款(元)"],
        ["640104001", 1, 2]
      ]);
    });
    const table = await readXlsx(path, {isHeaderRow: hasUnitCode});
    expect(table.groups).toEqual(["", "", ""]);
  });
});

describe("readXlsx: dates", () => {
  /** A date cell, a date-formatted serial, a plain serial and a date formula, as Excel shows 2024-05-10. */
  const build = (date1904: boolean) => (workbook: Workbook) => {
    workbook.properties.date1904 = date1904;
    const sheet = workbook.addWorksheet("Sheet1");
    fill(sheet, [
      ["单位编码", "检查日期", "日期序号(已格式化)", "日期序号", "整改期限"],
      [
        "640104001",
        utc(2024, 5, 10),
        date1904 ? 43960 : 45422,
        45422,
        {formula: "B2+1", result: utc(2024, 5, 11)}
      ]
    ]);
    for (const address of ["B2", "C2", "E2"]) sheet.getCell(address).numFmt = "yyyy-mm-dd";
  };

  it("gives a 1900-system date the UTC calendar day Excel shows", async () => {
    const table = await readXlsx(await workbookFile(build(false)), {isHeaderRow: hasUnitCode});
    expect(table.date1904).toBe(false);
    const [, date, formatted, serial, formula] = table.rows[0]!.cells;
    expect(date).toBeInstanceOf(Date);
    expect((date as Date).toISOString()).toBe("2024-05-10T00:00:00.000Z");
    expect((formatted as Date).toISOString()).toBe("2024-05-10T00:00:00.000Z");
    expect(serial).toBe(45422);
    expect((formula as Date).toISOString()).toBe("2024-05-11T00:00:00.000Z");
  });

  it("gives a 1904-system date the same calendar day, and keeps plain serials as numbers", async () => {
    const table = await readXlsx(await workbookFile(build(true)), {isHeaderRow: hasUnitCode});
    expect(table.date1904).toBe(true);
    const [, date, formatted, serial, formula] = table.rows[0]!.cells;
    expect(date).toBeInstanceOf(Date);
    expect((date as Date).toISOString()).toBe("2024-05-10T00:00:00.000Z");
    // 43960 is what a 1904 workbook stores for the day Excel shows as 2024-05-10.
    expect((formatted as Date).toISOString()).toBe("2024-05-10T00:00:00.000Z");
    expect(serial).toBe(45422);
    expect((formula as Date).toISOString()).toBe("2024-05-11T00:00:00.000Z");
  });

  it('reads date1904="true" (valid OOXML, which exceljs takes for the 1900 system) as the 1904 system', async () => {
    const path = join(dir, "date1904-true.xlsx");
    await writeFile(
      path,
      handMadePackage(
        `<workbookPr date1904="true"/>`,
        `<row r="1"><c r="A1" t="inlineStr"><is><t>单位编码</t></is></c><c r="B1" t="inlineStr"><is><t>检查日期</t></is></c></row>` +
          `<row r="2"><c r="A2" t="inlineStr"><is><t>640104001</t></is></c><c r="B2" s="1"><v>43960</v></c></row>`
      )
    );
    const table = await readXlsx(path, {isHeaderRow: hasUnitCode});
    expect(table.date1904).toBe(true);
    expect(table.rows).toEqual([{line: 2, cells: ["640104001", utc(2024, 5, 10)]}]);
  });
});

describe("readXlsx: formulas and errors", () => {
  it("gives cached results, errors, and 公式没有缓存值 for a formula never calculated", async () => {
    const path = await workbookFile((workbook) => {
      const sheet = workbook.addWorksheet("Sheet1");
      fill(sheet, [
        ["单位编码", "追回", "罚款", "合计", "名称", "状态", "核对", "比例", "日期"],
        [
          "640104001",
          100,
          20,
          {formula: "B2+C2", result: 120},
          {formula: 'A2&"院"', result: "640104001院"},
          {formula: "D2>100", result: true},
          {formula: "B2+C2"},
          {formula: "B2/0", result: {error: "#DIV/0!"}},
          {formula: "VLOOKUP(A2,X:Y,2,0)", result: {error: "#N/A"}}
        ],
        ["640104002", {error: "#REF!"}, {error: "#N/A"}, {formula: "#REF!+1", result: {error: "#REF!"}}]
      ]);
      // A date-formatted formula whose result is an error must stay an error.
      sheet.getCell("I2").numFmt = "yyyy-mm-dd";
    });
    const table = await readXlsx(path, {isHeaderRow: hasUnitCode});
    expect(table.rows).toEqual([
      {
        line: 2,
        cells: [
          "640104001",
          100,
          20,
          120,
          "640104001院",
          true,
          {error: "公式没有缓存值"},
          {error: "#DIV/0!"},
          {error: "#N/A"}
        ]
      },
      {
        line: 3,
        cells: [
          "640104002",
          {error: "#REF!"},
          {error: "#N/A"},
          {error: "#REF!"},
          null,
          null,
          null,
          null,
          null
        ]
      }
    ]);
  });

  it("reads shared formulas' cached results", async () => {
    const path = await workbookFile((workbook) => {
      const sheet = workbook.addWorksheet("Sheet1");
      fill(sheet, [
        ["单位编码", "金额", "双倍"],
        ["A", 1, {formula: "B2*2", result: 2, shareType: "shared", ref: "C2:C4"}],
        ["B", 2, {sharedFormula: "C2", result: 4}],
        ["C", 3, {sharedFormula: "C2"}]
      ]);
    });
    const table = await readXlsx(path, {isHeaderRow: hasUnitCode});
    expect(table.rows).toEqual([
      {line: 2, cells: ["A", 1, 2]},
      {line: 3, cells: ["B", 2, 4]},
      {line: 4, cells: ["C", 3, {error: "公式没有缓存值"}]}
    ]);
  });

  it('keeps a cached "" as text and leaves out template rows whose formulas all give ""', async () => {
    const path = await workbookFile((workbook) => {
      const sheet = workbook.addWorksheet("Sheet1");
      fill(sheet, [
        ["单位编码", "单位名称", "检查日期"],
        ["640104001", {formula: 'IFERROR(VLOOKUP(A2,X:Y,2,0),"")', result: ""}, utc(2024, 5, 10)],
        [
          undefined,
          {formula: 'IFERROR(VLOOKUP(A3,X:Y,2,0),"")', result: ""},
          {formula: 'IF(A3="","",A3)', result: ""}
        ],
        ["640104002", "金凤区中医院", {formula: 'IF(A4="","","待查")', result: "待查"}]
      ]);
      for (const address of ["C2", "C3", "C4"]) sheet.getCell(address).numFmt = "yyyy-mm-dd";
    });
    const table = await readXlsx(path, {isHeaderRow: hasUnitCode});
    expect(table.rows).toEqual([
      {line: 2, cells: ["640104001", "", utc(2024, 5, 10)]},
      {line: 4, cells: ["640104002", "金凤区中医院", "待查"]}
    ]);
  });
});

describe("readXlsx: cell values and rows", () => {
  it("joins rich text, takes hyperlink text, keeps strings untrimmed and booleans", async () => {
    const path = await workbookFile((workbook) => {
      fill(workbook.addWorksheet("Sheet1"), [
        ["单位编码", "单位名称", "依据", "已整改"],
        [
          "640104001",
          {richText: [{text: "兴庆区"}, {text: "人民医院", font: {bold: true}}]},
          {text: "医保发〔2024〕5号", hyperlink: "https://example.org/doc"},
          true
        ],
        ["  640104002 ", "金凤区中医院 ", "无", false]
      ]);
    });
    const table = await readXlsx(path, {isHeaderRow: hasUnitCode});
    expect(table.rows).toEqual([
      {line: 2, cells: ["640104001", "兴庆区人民医院", "医保发〔2024〕5号", true]},
      {line: 3, cells: ["  640104002 ", "金凤区中医院 ", "无", false]}
    ]);
  });

  it("leaves out blank rows, resolves merged data cells to the master and keeps sheet row numbers", async () => {
    const path = await workbookFile((workbook) => {
      const sheet = workbook.addWorksheet("Sheet1");
      fill(sheet, [
        ["检查记录表"],
        ["单位名称", "检查日期", "问题", "金额"],
        ["兴庆区人民医院", "2024-05-10", "串换药品", 100],
        [undefined, undefined, "重复收费", 200],
        [],
        ["   ", null],
        ["金凤区中医院", "2024-05-12", "分解住院", 300],
        [undefined, "2024-05-13", "无", 0]
      ]);
      sheet.mergeCells("A1:D1");
      sheet.mergeCells("A3:A4");
      sheet.mergeCells("B3:B4");
      sheet.mergeCells("A7:A8");
      sheet.getCell("D6").style = {font: {bold: true}};
    });
    const table = await readXlsx(path, {isHeaderRow: (texts) => texts.includes("单位名称")});
    expect(table.headerLine).toBe(2);
    expect(table.rows).toEqual([
      {line: 3, cells: ["兴庆区人民医院", "2024-05-10", "串换药品", 100]},
      {line: 4, cells: ["兴庆区人民医院", "2024-05-10", "重复收费", 200]},
      {line: 7, cells: ["金凤区中医院", "2024-05-12", "分解住院", 300]},
      {line: 8, cells: ["金凤区中医院", "2024-05-13", "无", 0]}
    ]);
  });
});

describe("readXlsx: files that are not workbooks", () => {
  it("says 无法读取 Excel 文件 naming the file for a CSV saved as .xlsx", async () => {
    const path = join(dir, "not-a-workbook.xlsx");
    await writeFile(path, "单位编码,金额\n640104001,100\n");
    await expect(readXlsx(path, {isHeaderRow: hasUnitCode})).rejects.toThrow(
      `${path}: 无法读取 Excel 文件（Can't find end of central directory`
    );
  });

  it("says an old .xls (or an encrypted workbook) must be saved as .xlsx", async () => {
    const path = join(dir, "old.xlsx");
    await writeFile(path, Buffer.concat([Buffer.from("d0cf11e0a1b11ae1", "hex"), Buffer.alloc(504)]));
    await expect(readXlsx(path, {isHeaderRow: hasUnitCode})).rejects.toThrow(
      `${path}: 无法读取 Excel 文件（这是旧版 .xls 文件或加密的工作簿，请在 Excel 中另存为 .xlsx；`
    );
  });

  it("says 无法读取 Excel 文件 for a missing file", async () => {
    const path = join(dir, "missing.xlsx");
    await expect(readXlsx(path, {isHeaderRow: hasUnitCode})).rejects.toThrow(`${path}: 无法读取 Excel 文件`);
  });
});

/**
 * A minimal .xlsx package written by hand (stored, not deflated), for what exceljs cannot write:
 * `workbookPr` as other producers write it. Style 1 is the built-in short date format (numFmtId 14).
 */
function handMadePackage(workbookPr: string, sheetData: string): Buffer {
  const main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
  const rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
  return storedZip({
    "xl/workbook.xml":
      `<workbook xmlns="${main}" xmlns:r="${rel}">${workbookPr}` +
      `<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    "xl/_rels/workbook.xml.rels":
      `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
      `<Relationship Id="rId1" Type="${rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
    "xl/styles.xml": `<styleSheet xmlns="${main}"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>`,
    "xl/worksheets/sheet1.xml": `<worksheet xmlns="${main}"><sheetData>${sheetData}</sheetData></worksheet>`
  });
}

/** A zip file of stored (uncompressed) UTF-8 entries. */
function storedZip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const nameBytes = Buffer.from(name, "utf8");
    const data = Buffer.from(text, "utf8");
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
