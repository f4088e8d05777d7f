// Damaged copies of the default data, one defect each, for the completeness gates' tests (unit tests
// through the ingest, browser tests through a whole build). CSV inputs are read as UTF-8 or GBK and
// written back as UTF-8 with a BOM (the ingest reads both).
import {cp, readdir, readFile, rm, writeFile} from "node:fs/promises";
import {join} from "node:path";

export const DEFAULT_DATA = join(import.meta.dirname, "..", "..", "data", "ningxia");

/** A copy of the default data in `to`. */
export async function copyDefaultData(to: string): Promise<string> {
  await cp(DEFAULT_DATA, to, {recursive: true});
  return to;
}

interface CsvTable {
  /** Lines above the header (a title row), kept as they are. */
  before: string[];
  header: string[];
  rows: string[][];
}

/** A CSV input as a table: the header is the first line that has `column` (title rows above it are kept). */
export async function readCsvTable(path: string, column: string): Promise<CsvTable> {
  const bytes = await readFile(path);
  let text: string;
  try {
    text = new TextDecoder("utf-8", {fatal: true}).decode(bytes).replace(/^\uFEFF/, "");
  } catch {
    text = new TextDecoder("gb18030").decode(bytes);
  }
  const lines = text.split(/\r?\n/).filter((l) => l !== "");
  const at = lines.findIndex((l) => l.split(",").includes(column));
  if (at < 0) throw new Error(`${path}: no header with ${column}`);
  return {
    before: lines.slice(0, at),
    header: (lines[at] ?? "").split(","),
    // The default data's CSV values hold no commas or quotes.
    rows: lines.slice(at + 1).map((l) => l.split(","))
  };
}

export async function writeCsvTable(path: string, table: CsvTable): Promise<void> {
  const lines = [...table.before, table.header.join(","), ...table.rows.map((r) => r.join(","))];
  await writeFile(path, `\uFEFF${lines.join("\n")}\n`);
}

/** Edits a CSV input of `folder` in place. */
export async function editCsv(
  folder: string,
  file: string,
  column: string,
  edit: (table: CsvTable, index: number) => void
): Promise<void> {
  const path = join(folder, file);
  const table = await readCsvTable(path, column);
  edit(table, table.header.indexOf(column));
  await writeCsvTable(path, table);
}

/** The defects the gates are for, each applied to a copy of the default data in `folder`. */
export const DEFECTS = {
  /** 区划.csv missing: every other dataset's references fail. */
  async noDivisions(folder: string): Promise<void> {
    await rm(join(folder, "区划.csv"));
  },
  /** A city sent no file this week: 固原市's five files missing. */
  async citySilent(folder: string): Promise<void> {
    for (const f of await readdir(folder)) if (f.startsWith("固原市_")) await rm(join(folder, f));
  },
  /** Half of one city's inspection records missing (every second row of 吴忠市_检查记录.csv). */
  async halfRows(folder: string): Promise<void> {
    await editCsv(folder, "吴忠市_检查记录.csv", "检查编号", (t) => {
      t.rows = t.rows.filter((_, i) => i % 2 === 0);
    });
  },
  /** One city's recovered amounts halved (固原市_处理结果.csv: every 处理金额 ÷ 2, to the fen). */
  async recoveredHalved(folder: string): Promise<void> {
    await editCsv(folder, "固原市_处理结果.csv", "处理金额", (t, c) => {
      for (const row of t.rows) if (row[c]) row[c] = (Number(row[c]) / 2).toFixed(2);
    });
  },
  /** 5% of one file's rows with an amount that cannot be read (银川市_违规问题.csv). */
  async manyRejected(folder: string): Promise<void> {
    await editCsv(folder, "银川市_违规问题.csv", "涉及金额", (t, c) => {
      t.rows.forEach((row, i) => {
        if (i % 20 === 0) row[c] = "见附件";
      });
    });
  },
  /** One county's latest weekly report states twice the institutions inspected, plus ten. */
  async weeklyOff(folder: string): Promise<void> {
    await editCsv(folder, "固原市_周报.csv", "累计检查机构数", (t, c) => {
      const week = t.header.findIndex((h) => h.includes("截止") || h.includes("日期"));
      const last = t.rows
        .map((r) => r[week] ?? "")
        .sort()
        .at(-1);
      const row = t.rows.find((r) => r[week] === last);
      if (!row) throw new Error("no weekly report");
      row[c] = String(Number(row[c]) * 2 + 10);
    });
  }
} as const;
