// The fill-in templates in templates/: generated from src/schema/ and committed. They must equal what
// the generator gives now (byte for byte, XLSX included: the generator fixes the zip timestamps), map
// to every column of their dataset, and load through the real ingest with zero rejects.
import {copyFile, mkdtemp, readdir, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import ExcelJS from "exceljs";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {datasetFromFileName, ingest, mapHeaders} from "../../loaders/ingest.js";
import {readCsv} from "../../loaders/sources/csv.js";
import {readXlsx} from "../../loaders/sources/xlsx.js";
import {
  TEMPLATE_DIR,
  checkTemplates,
  exampleRows,
  inputDatasets,
  templateFiles,
  templateNames
} from "../../scripts/gen-templates.js";
import type {Column, Dataset} from "../../src/schema/dataset.js";
import {DATASETS} from "../../src/schema/index.js";

/** A date after every example date, so that none is "in the future". */
const TODAY = "2024-12-31";
const REGENERATE = "填报模板与 src/schema/ 不一致：请运行 npm run gen:templates 重新生成 templates/";

let generated: Map<string, Buffer>;
const temps: string[] = [];

beforeAll(async () => {
  generated = await templateFiles();
});

afterAll(async () => {
  for (const dir of temps) await rm(dir, {recursive: true, force: true});
});

/** A fresh temp folder holding copies of the named templates. */
async function folderOf(names: readonly string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "fundwatch-templates-"));
  temps.push(dir);
  for (const name of names) await copyFile(join(TEMPLATE_DIR, name), join(dir, name));
  return dir;
}

const headerOf = (ds: Dataset) => (texts: string[]) => mapHeaders(ds, texts).missing.length === 0;

describe("templates/ is what the generator gives (drift)", () => {
  it("the committed files equal the generator's output, byte for byte", async () => {
    const drift = await checkTemplates(TEMPLATE_DIR, generated);
    expect(drift, REGENERATE).toEqual({missing: [], changed: [], stale: []});
    for (const [name, bytes] of generated) {
      expect((await readFile(join(TEMPLATE_DIR, name))).equals(bytes), `${REGENERATE}（${name}）`).toBe(true);
    }
  });

  it("the generator is deterministic, XLSX included", async () => {
    const again = await templateFiles();
    expect([...again.keys()]).toEqual([...generated.keys()]);
    for (const [name, bytes] of again)
      expect(bytes.equals(generated.get(name) ?? Buffer.alloc(0)), name).toBe(true);
  });
});

describe("one CSV and one XLSX template per input dataset", () => {
  it("covers every dataset but the reference-only figures, plus a README", () => {
    const inputs = inputDatasets().map((ds) => ds.name);
    expect(inputs).toEqual(DATASETS.map((ds) => ds.name).filter((name) => name !== "figures"));
    const expected = inputDatasets().flatMap((ds) => Object.values(templateNames(ds)));
    expect([...generated.keys()].sort()).toEqual([...expected, "README.md"].sort());
    expect(expected).toContain("检查记录.csv");
    expect(expected).toContain("检查记录.xlsx");
  });

  it("every template's file name maps back to its dataset", () => {
    for (const ds of inputDatasets()) {
      for (const name of Object.values(templateNames(ds)))
        expect(datasetFromFileName(name)?.name, name).toBe(ds.name);
    }
  });

  for (const ds of inputDatasets()) {
    const columns = Object.entries(ds.columns) as [string, Column][];
    const moneyFields = columns.filter(([, col]) => col.duck === "BIGINT").map(([field]) => field);

    it(`${ds.label}.csv: UTF-8 with BOM; headers map to every column, money in 元`, async () => {
      const {csv} = templateNames(ds);
      const bytes = await readFile(join(TEMPLATE_DIR, csv));
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const table = await readCsv(join(TEMPLATE_DIR, csv), {isHeaderRow: headerOf(ds)});
      expect(table.headerLine).toBe(1);
      const mapping = mapHeaders(ds, table.headers);
      expect(mapping.missing).toEqual([]);
      expect(mapping.ignored).toEqual([]);
      expect(mapping.ambiguous).toEqual([]);
      expect([...mapping.fields.keys()].sort()).toEqual(columns.map(([field]) => field).sort());
      for (const field of moneyFields) {
        const header = ds.columns[field]?.header ?? "";
        // Written with full-width brackets; the reader normalizes (NFKC) them to ASCII.
        expect(bytes.toString("utf8").split("\r\n")[0]).toContain(`${header}（元）`);
        expect(mapping.fields.get(field)?.header).toBe(`${header}(元)`);
        expect(mapping.fields.get(field)?.unit).toBe("元");
      }
      expect(table.rows).toHaveLength(exampleRows(ds).length);
    });

    it(`${ds.label}.xlsx: title, header in row 2, examples, 填写说明; headers map to every column`, async () => {
      const {xlsx} = templateNames(ds);
      const table = await readXlsx(join(TEMPLATE_DIR, xlsx), {isHeaderRow: headerOf(ds)});
      expect(table.sheet).toBe(ds.label);
      expect(table.headerLine).toBe(2);
      const mapping = mapHeaders(ds, table.headers, table.groups);
      expect(mapping.missing).toEqual([]);
      expect(mapping.ignored).toEqual([]);
      expect([...mapping.fields.keys()].sort()).toEqual(columns.map(([field]) => field).sort());
      for (const field of moneyFields) expect(mapping.fields.get(field)?.unit).toBe("元");
      expect(table.rows.map((r) => r.line)).toEqual(exampleRows(ds).map((_, i) => 3 + i));

      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load((await readFile(join(TEMPLATE_DIR, xlsx))) as unknown as ArrayBuffer);
      expect(workbook.worksheets.map((ws) => ws.name)).toEqual([ds.label, "填写说明"]);
      const sheet = workbook.worksheets[0]!;
      expect(sheet.getCell(1, 1).value).toBe(`${ds.label}填报模板`);
      expect(sheet.getCell(1, columns.length).isMerged).toBe(true);
      expect(sheet.getCell(2, 1).font?.bold).toBe(true);
      expect(sheet.views[0]).toMatchObject({state: "frozen", ySplit: 2});
      const notes = workbook.getWorksheet("填写说明")!;
      const listed = new Map<string, unknown[]>();
      notes.eachRow((row) => {
        const values = (row.values as unknown[]).slice(1);
        if (typeof values[0] === "string") listed.set(values[0], values);
      });
      for (const [, col] of columns) {
        const row = listed.get(col.duck === "BIGINT" ? `${col.header}（元）` : col.header);
        expect(row, col.header).toBeDefined();
        expect(row?.[1]).toBe(col.optional ? "选填" : "必填");
        expect(String(row?.[2])).toContain(col.description);
        if (col.values) expect(row?.[3]).toBe(col.values.join("、"));
        expect(row?.[4]).toBe(col.example);
      }
    });
  }

  it("the README has a section and a column table per dataset, and says the files are generated", () => {
    const text = generated.get("README.md")?.toString("utf8") ?? "";
    expect(text).toContain("npm run gen:templates");
    expect(text).toContain("请勿手工修改");
    for (const ds of inputDatasets()) {
      expect(text).toContain(`## ${ds.label}（${ds.name}）`);
      for (const col of Object.values(ds.columns) as Column[]) expect(text).toContain(`| ${col.header}`);
    }
  });
});

describe("the templates' examples load through ingest with zero rejects", () => {
  const expectedCounts = (): Record<string, number> =>
    Object.fromEntries(
      DATASETS.map((ds) => [ds.name, inputDatasets().includes(ds) ? exampleRows(ds).length : 0])
    );

  for (const format of ["csv", "xlsx"] as const) {
    it(`the ${format.toUpperCase()} set: every example row loaded, no rejects, no warnings`, async () => {
      const dir = await folderOf(inputDatasets().map((ds) => templateNames(ds)[format]));
      const result = await ingest([dir], {today: TODAY});
      expect(result.rejects).toEqual([]);
      expect(result.warnings).toEqual([]);
      const counts = Object.fromEntries([...result.tables].map(([name, rows]) => [name, rows.length]));
      expect(counts).toEqual(expectedCounts());
      for (const file of result.files) {
        expect(file.rows_loaded, file.file).toBe(file.rows_read);
        expect(file.ignored_columns, file.file).toEqual([]);
        expect(file.format).toBe(format);
      }
      const finding = result.tables.get("findings")?.[0];
      expect(finding?.amount_involved).toBe(1_294_692n);
      expect(finding?.fund_paid).toBe(1_035_754n);
      expect(result.tables.get("weekly_reports")?.[0]).toMatchObject({
        division_code: "640104",
        amount_recovered: 182_690_000n
      });
      expect(result.tables.get("campaigns")?.[0]).toMatchObject({
        big_case_threshold: 5_000_000n,
        start_date: "2024-05-15"
      });
    });
  }

  it("a user-edited CSV (header typed with spaces and full-width brackets, in 万元) still loads, scaled to yuan", async () => {
    const dir = await folderOf(inputDatasets().map((ds) => templateNames(ds).csv));
    const path = join(dir, "违规问题.csv");
    const text = (await readFile(path, "utf8")).replace(/^\uFEFF/, "");
    const [header = "", example = ""] = text.split("\r\n");
    expect(header).toContain("涉及金额（元）");
    const edited = [
      header.replace("涉及金额（元）", " 涉及金额 （万元）"),
      example.replace("12946.92", "1.294692"),
      example.replace("WT2024-0001", "WT2024-0002").replace("12946.92", "2.5").replace("10357.54", "18000")
    ];
    await writeFile(path, `\uFEFF${edited.join("\r\n")}\r\n`);

    const result = await ingest([dir], {today: TODAY});
    expect(result.rejects).toEqual([]);
    const findingsFile = result.files.find((f) => f.dataset === "findings");
    expect(findingsFile).toMatchObject({rows_read: 2, rows_loaded: 2, ignored_columns: []});
    const rows = result.tables.get("findings") ?? [];
    // 1.294692 万元 = 12,946.92 元 = 1,294,692 fen; 2.5 万元 = 25,000 元; 基金支付金额 stays in 元.
    expect(rows.map((r) => [r.id, r.amount_involved, r.fund_paid])).toEqual([
      ["WT2024-0001", 1_294_692n, 1_035_754n],
      ["WT2024-0002", 2_500_000n, 1_800_000n]
    ]);
  });

  it("lists no stray files: the templates folder holds only generated files", async () => {
    const present = (await readdir(TEMPLATE_DIR)).filter((name) => !name.startsWith(".")).sort();
    expect(present, REGENERATE).toEqual([...generated.keys()].sort());
  });
});
