/**
 * The holiday calendar (节假日表) the big-case working-day rule counts with, kept by the office as data:
 * `data/节假日.csv` (beside, not inside, the input folder), one row per day that the State Council General
 * Office's notice for a year makes a day off (休) or a weekend working day (班, 调休上班), each citing
 * that notice. This module reads and checks the file (every problem named by file, row and column, in
 * Chinese), checks that it covers every year the data needs, and turns it into the site database's
 * `calendar` table. A year the calendar lacks is an error, never a guess.
 *
 * Columns: 日期 (YYYY-MM-DD; the other forms the inputs accept, such as 2024/10/1, too), 类型 (休 or 班),
 * 节日 (元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节, or two joined by 、), 年度 (the year whose notice
 * gives the day: 2019 for 2018-12-30, the first day of 元旦 2019), 依据 (the notice: title, 文号 and date),
 * 备注 (optional). A year is covered when some row has it as 年度.
 */
import {stat} from "node:fs/promises";
import {isAbsolute, join, relative, resolve, sep, basename} from "node:path";
import {fileURLToPath} from "node:url";
import {HOLIDAY_NAMES, describeYears, type CalendarDay} from "../src/metrics/calendar.js";
import {cellText, isMissing, normalizeText, parseDate, type Cell} from "../src/parse/values.js";
import type {TableSpec} from "./duckdb-file.js";
import type {LoadedRow} from "./ingest.js";
import {readCsv} from "./sources/csv.js";

const PROJECT_ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Where the calendar lives, relative to the project root. */
export const CALENDAR_FILE = join("data", "节假日.csv");

/** The calendar the site's loader reads: `FUNDWATCH_CALENDAR` (relative to the root) or data/节假日.csv. */
export function calendarPath(
  projectRoot: string = PROJECT_ROOT,
  env: NodeJS.ProcessEnv = process.env
): string {
  return resolve(projectRoot, env.FUNDWATCH_CALENDAR ?? CALENDAR_FILE);
}

/** One checked row of the calendar file. */
export interface CalendarEntry extends CalendarDay {
  kind: "休" | "班";
  /** 节日, e.g. `春节` or `中秋节、国庆节`. */
  name: string;
  /** 依据: the notice's title, 文号 and date. */
  source: string;
  note: string | null;
  /** The row's line in the file. */
  line: number;
}

/** The checked calendar: its file (as shown in the site: project-relative, or the bare name), years and rows. */
export interface CalendarFile {
  file: string;
  years: number[];
  rows: CalendarEntry[];
}

const COLUMNS = {
  day: "日期",
  kind: "类型",
  name: "节日",
  year: "年度",
  source: "依据",
  note: "备注"
} as const;
type Field = keyof typeof COLUMNS;
const OPTIONAL: readonly Field[] = ["note"];
/** A Chinese document number: 〔2023〕7号. */
const DOCUMENT_NUMBER = /〔\d{4}〕\d+号/;
const SOURCE_EXAMPLE = "《国务院办公厅关于2024年部分节假日安排的通知》国办发明电〔2023〕7号，2023年10月25日";
const WEEKDAYS = ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"];
/** Past this many, the rest of a file's row problems are counted, not listed. */
const MAX_LISTED = 30;

/** The path as messages show it: project-relative inside the project, else as given (absolute). */
function shownPath(path: string): string {
  const inside = relative(PROJECT_ROOT, path);
  return inside && !inside.startsWith("..") && !isAbsolute(inside) ? inside.split(sep).join("/") : path;
}

/** The name the site database keeps: project-relative, or the bare file name (no machine path in the site). */
function siteName(path: string): string {
  const shown = shownPath(path);
  return shown === path ? basename(path) : shown;
}

const squash = (text: string): string => normalizeText(text).replace(/\s/g, "");

/** The column index of each field, and the problems with the header. */
function mapColumns(headers: readonly string[], at: string): {index: Map<Field, number>; problems: string[]} {
  const index = new Map<Field, number>();
  const problems: string[] = [];
  const names = Object.entries(COLUMNS) as [Field, string][];
  headers.forEach((header, i) => {
    const text = squash(header);
    if (text === "") return;
    const field = names.find(([, name]) => name === text)?.[0];
    if (!field)
      problems.push(
        `${at}: 不认识的列「${header}」（可用的列：${Object.values(COLUMNS).join("、")}；说明请写在「备注」列）`
      );
    else if (index.has(field)) problems.push(`${at}: 「${COLUMNS[field]}」列出现了两次`);
    else index.set(field, i);
  });
  const missing = names.filter(([field]) => !OPTIONAL.includes(field) && !index.has(field));
  if (missing.length > 0)
    problems.push(
      `${at}: 缺少必需的列：${missing.map(([, name]) => `「${name}」`).join("、")}（表头为：${headers.join("，")}）`
    );
  return {index, problems};
}

/** The problems of one row's cells (each naming the row and column), or its entry. */
function checkRow(
  cells: readonly Cell[],
  index: Map<Field, number>,
  at: string
): {entry?: Omit<CalendarEntry, "line">; problems: string[]} {
  const problems: string[] = [];
  const cell = (field: Field): Cell => {
    const i = index.get(field);
    return i === undefined ? null : (cells[i] ?? null);
  };
  const text = (field: Field): string => (isMissing(cell(field)) ? "" : squash(cellText(cell(field))));
  const say = (field: Field, message: string): void => {
    problems.push(`${at}「${COLUMNS[field]}」：${message}`);
  };

  const date = parseDate(cell("day"));
  const day = date.ok ? date.value : null;
  if (!date.ok) say("day", date.reason);

  const kind = text("kind");
  if (kind !== "休" && kind !== "班") say("kind", `应为“休”（放假）或“班”（调休上班），收到「${kind}」`);
  else if (kind === "班" && day !== null) {
    const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
    if (weekday !== 0 && weekday !== 6)
      say(
        "day",
        `${day} 是${WEEKDAYS[weekday]}：类型为“班”（调休上班）的日子应是星期六或星期日（平日本来就上班，不必列出）`
      );
  }

  const name = text("name");
  if (name === "") say("name", `不能为空：写明是哪个节日的放假或调休（${HOLIDAY_NAMES.join("、")}）`);
  else if (!name.split("、").every((n) => (HOLIDAY_NAMES as readonly string[]).includes(n)))
    say(
      "name",
      `应为 ${HOLIDAY_NAMES.join("、")} 之一（两节合并放假时写作“中秋节、国庆节”），收到「${name}」`
    );

  const yearText = text("year");
  const year = /^\d{4}$/.test(yearText) ? Number(yearText) : null;
  if (year === null) say("year", `应为四位数的年份（该日所依据通知的年度），收到「${yearText}」`);
  else if (day !== null) {
    const dayYear = Number(day.slice(0, 4));
    const lastDecember = dayYear === year - 1 && day.slice(5, 7) === "12";
    if (dayYear !== year && !lastDecember)
      say("year", `${day} 不属于 ${year} 年度的通知（只有元旦假期可从上一年 12 月开始）`);
  }

  // 依据 and 备注 are kept as written (NFKC would turn the notice's ，into a comma).
  const source = isMissing(cell("source")) ? "" : cellText(cell("source")).trim();
  if (source === "")
    say("source", `不能为空：每一行都要写明国务院办公厅通知的名称、文号和日期，例如 ${SOURCE_EXAMPLE}`);
  else if (!DOCUMENT_NUMBER.test(source))
    say("source", `没有通知的文号（如 国办发明电〔2023〕7号），收到「${source}」`);

  const note = isMissing(cell("note")) ? null : cellText(cell("note")).trim() || null;
  if (problems.length > 0 || day === null || year === null) return {problems};
  return {entry: {day, kind: kind as "休" | "班", name, year, source, note}, problems};
}

/**
 * Reads and checks the calendar file. Returns the calendar, or the problems (each naming the file, and
 * the row and column where there is one); never both.
 */
export async function readCalendarFile(path: string): Promise<{calendar?: CalendarFile; problems: string[]}> {
  const shown = shownPath(path);
  if (!(await stat(path).catch(() => undefined))?.isFile())
    return {
      problems: [
        `节假日表 ${shown} 不存在：大案及时上报率按工作日计算，需要这张表（默认 data/节假日.csv；npm run ingest 用 --calendar 指定，站点构建用环境变量 FUNDWATCH_CALENDAR）`
      ]
    };
  let table: Awaited<ReturnType<typeof readCsv>>;
  try {
    table = await readCsv(path, {isHeaderRow: (texts) => texts.includes("日期") && texts.includes("类型")});
  } catch (error) {
    const message = (error as Error).message.replace(path, "").replace(/^:\s*/, "");
    return {
      problems: [
        /找不到表头/.test(message)
          ? `节假日表 ${shown}: 找不到表头（前 30 行中没有含「日期」和「类型」的行）`
          : `节假日表 ${shown}: ${message}`
      ]
    };
  }
  const {index, problems} = mapColumns(table.headers, `节假日表 ${shown}`);
  if (problems.length > 0) return {problems};
  const rows: CalendarEntry[] = [];
  const rowProblems: string[] = [];
  const firstLine = new Map<string, number>();
  for (const {line, cells} of table.rows) {
    const checked = checkRow(cells, index, `节假日表 ${shown} 第 ${line} 行`);
    rowProblems.push(...checked.problems);
    if (!checked.entry) continue;
    const first = firstLine.get(checked.entry.day);
    if (first !== undefined) {
      rowProblems.push(
        `节假日表 ${shown} 第 ${line} 行「日期」：${checked.entry.day} 重复，第 ${first} 行已有这一天`
      );
      continue;
    }
    firstLine.set(checked.entry.day, line);
    rows.push({...checked.entry, line});
  }
  if (rowProblems.length > MAX_LISTED)
    rowProblems.splice(MAX_LISTED, Infinity, `节假日表 ${shown}: 等共 ${rowProblems.length} 个问题`);
  if (rowProblems.length > 0) return {problems: rowProblems};
  if (rows.length === 0) return {problems: [`节假日表 ${shown} 没有任何数据行`]};
  rows.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  const years = [...new Set(rows.map((r) => r.year))].sort((a, b) => a - b);
  return {calendar: {file: siteName(path), years, rows}, problems: []};
}

/** Every year from `from`'s to `to`'s (either order). */
function yearsBetween(from: string, to: string): number[] {
  const [a, b] = [Number(from.slice(0, 4)), Number(to.slice(0, 4))].sort((x, y) => x - y) as [number, number];
  return Array.from({length: b - a + 1}, (_, i) => a + i);
}

/**
 * The years the data needs working days for, each with the first record that needs it: every year from a
 * disposition's 处理日期 to its 上报日期 (big-case timeliness counts the working days between them), and
 * every year of a campaign's period.
 */
export function yearsNeeded(tables: ReadonlyMap<string, readonly LoadedRow[]>): Map<number, string> {
  const needed = new Map<number, string>();
  const need = (years: number[], where: string): void => {
    for (const year of years) if (!needed.has(year)) needed.set(year, where);
  };
  for (const row of tables.get("dispositions") ?? []) {
    const decided = String(row.decided_on);
    const reported = typeof row.reported_on === "string" ? row.reported_on : decided;
    need(
      yearsBetween(decided, reported),
      `${row.source_file} 第 ${row.source_line} 行（处理日期 ${decided}${reported === decided ? "" : `，上报日期 ${reported}`}）`
    );
  }
  for (const row of tables.get("campaigns") ?? []) {
    need(
      yearsBetween(String(row.start_date), String(row.end_date)),
      `${row.source_file} 第 ${row.source_line} 行（专项行动 ${String(row.id)}，${String(row.start_date)} 至 ${String(row.end_date)}）`
    );
  }
  return needed;
}

/**
 * The ingest's calendar step: reads and checks the calendar file (default data/节假日.csv) and requires
 * it to cover every year the loaded data needs ({@link yearsNeeded}). Returns the calendar, or the
 * problems (in Chinese, naming the file, and each missing year with a record that needs it).
 */
export async function calendarForData(
  tables: ReadonlyMap<string, readonly LoadedRow[]>,
  path: string = calendarPath(PROJECT_ROOT, {})
): Promise<{calendar?: CalendarFile; problems: string[]}> {
  const read = await readCalendarFile(path);
  if (!read.calendar) return read;
  const covered = new Set(read.calendar.years);
  const problems = [...yearsNeeded(tables)]
    .filter(([year]) => !covered.has(year))
    .sort(([a], [b]) => a - b)
    .map(
      ([year, where]) =>
        `节假日表 ${shownPath(path)} 中没有 ${year} 年（已有：${describeYears(read.calendar?.years ?? [])}），而数据需要 ${year} 年的工作日：${where}。大案及时上报率按工作日计算，不能猜测节假日：请按国务院办公厅关于 ${year} 年部分节假日安排的通知，在该文件中补上 ${year} 年放假（休）和调休上班（班）的日期，并写明年度和依据`
    );
  return problems.length > 0 ? {problems} : read;
}

/** The site database's `calendar` table: one row per day of the calendar file, in day order. */
export function calendarTable(calendar: CalendarFile): TableSpec {
  return {
    name: "calendar",
    columns: [
      {name: "day", type: "DATE"},
      {name: "kind", type: "VARCHAR"},
      {name: "name", type: "VARCHAR"},
      {name: "year", type: "INTEGER"},
      {name: "source", type: "VARCHAR"},
      {name: "note", type: "VARCHAR"},
      {name: "source_file", type: "VARCHAR"},
      {name: "source_line", type: "INTEGER"}
    ],
    rows: calendar.rows.map((r) => [r.day, r.kind, r.name, r.year, r.source, r.note, calendar.file, r.line])
  };
}
