/**
 * Working days in mainland China: Monday to Friday, minus public holidays, plus the weekend days made
 * working days (调休). The holidays are data, not code: the office keeps them in `data/节假日.csv`
 * (one row per day each year's State Council notice makes a day off or a working day, with the notice
 * cited), the loader checks the file and writes it into the site database as the `calendar` table, and
 * {@link loadCalendar} reads it there. A date in a year the calendar does not cover is an error, never a
 * guess.
 */
import {sqlQuery, type QueryDb} from "../sql/template.js";

const DAY_MS = 86_400_000;

/** The public holidays a notice names (a row may name two joined by 、, e.g. `中秋节、国庆节`). */
export const HOLIDAY_NAMES = ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"] as const;

/** One day of the calendar table, as the working-day functions read it. */
export interface CalendarDay {
  /** The day, YYYY-MM-DD. */
  day: string;
  /** `休`: a holiday day off; `班`: a Saturday or Sunday made a working day (调休上班). */
  kind: string;
  /** The year whose State Council notice gives this day (年度): 2019 for 2018-12-30 (元旦 2019). */
  year: number;
}

/** The working-day calendar: the years it covers and the days that break the Monday–Friday rule. */
export interface WorkingCalendar {
  /** The years covered (each with its notice in the calendar), ascending. */
  readonly years: readonly number[];
  /** Holiday days off (休), YYYY-MM-DD. */
  readonly daysOff: ReadonlySet<string>;
  /** Weekend days made working days (班), YYYY-MM-DD. */
  readonly workingWeekendDays: ReadonlySet<string>;
}

/**
 * Years as Chinese text, runs joined: `[2018, 2019, 2020, 2022]` → `2018—2020、2022 年`.
 *
 * @param years - the years, in any order
 * @returns the text (`无` for none)
 * @example
 * ```ts
 * describeYears([2022, 2018, 2019, 2020]); // → "2018—2020、2022 年"
 * describeYears([]); // → "无"
 * ```
 */
export function describeYears(years: readonly number[]): string {
  const sorted = [...new Set(years)].sort((a, b) => a - b);
  if (sorted.length === 0) return "无";
  const runs: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) ++j;
    runs.push(j === i ? String(sorted[i]) : `${sorted[i]}—${sorted[j]}`);
    i = j + 1;
  }
  return `${runs.join("、")} 年`;
}

/** A YYYY-MM-DD day as UTC milliseconds; a RangeError for anything else (a day that does not exist included). */
function dayTime(day: string): number {
  const time = Date.parse(`${day}T00:00:00Z`);
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(day) ||
    Number.isNaN(time) ||
    new Date(time).toISOString().slice(0, 10) !== day
  )
    throw new RangeError(`工作日计算需要存在的 YYYY-MM-DD 日期，收到「${day}」`);
  return time;
}

const built = new WeakMap<readonly CalendarDay[], WorkingCalendar>();

/**
 * The working-day calendar from the rows of the `calendar` table (as plain objects, e.g. `data.calendar`
 * or rows read from the database). A year is covered when some row belongs to its notice (`year`).
 *
 * @param rows - the calendar's rows: `day` (YYYY-MM-DD), `kind` (`休` or `班`) and `year` (年度)
 * @returns the calendar, for {@link isWorkingDay} and {@link workingDaysBetween}
 * @example
 * ```ts
 * const calendar = calendarFromRows(data.calendar);
 * describeYears(calendar.years); // → "2018—2026 年"
 * const small = calendarFromRows([{day: "2024-10-01", kind: "休", year: 2024}]);
 * [small.years, isWorkingDay(small, "2024-10-01"), isWorkingDay(small, "2024-10-08")]; // → [[2024], false, true]
 * ```
 */
export function calendarFromRows(rows: readonly CalendarDay[]): WorkingCalendar {
  const cached = built.get(rows);
  if (cached) return cached;
  const daysOff = new Set<string>();
  const workingWeekendDays = new Set<string>();
  const years = new Set<number>();
  for (const row of rows) {
    if (row.kind === "休") daysOff.add(row.day);
    else if (row.kind === "班") workingWeekendDays.add(row.day);
    else throw new RangeError(`节假日表中 ${row.day} 的类型应为“休”或“班”，收到「${String(row.kind)}」`);
    years.add(Number(row.year));
  }
  const calendar = {years: [...years].sort((a, b) => a - b), daysOff, workingWeekendDays};
  built.set(rows, calendar);
  return calendar;
}

/**
 * Reads the working-day calendar from the site database's `calendar` table (written by the loader from
 * `data/节假日.csv`).
 *
 * @param db - the page's `db` (or any {@link QueryDb})
 * @returns the calendar, for {@link isWorkingDay} and {@link workingDaysBetween}
 * @example
 * ```ts
 * const calendar = await loadCalendar(db);
 * describeYears(calendar.years); // → "2018—2026 年"
 * isWorkingDay(calendar, "2023-10-07"); // → true
 * ```
 */
export async function loadCalendar(db: QueryDb): Promise<WorkingCalendar> {
  const rows = await db.query(
    sqlQuery`SELECT strftime(day, '%Y-%m-%d') AS day, kind, year FROM calendar ORDER BY day`
  );
  return calendarFromRows(
    rows.map((r) => ({day: String(r.day), kind: String(r.kind), year: Number(r.year)}))
  );
}

/**
 * Whether a day is a working day in mainland China: Monday to Friday, minus public holidays, plus the
 * weekend days made working days (调休). Throws a RangeError, in Chinese, for a year the calendar does
 * not cover.
 *
 * @param calendar - the calendar ({@link loadCalendar} or {@link calendarFromRows})
 * @param day - the day, YYYY-MM-DD
 * @returns true on a working day
 * @example
 * ```ts
 * const calendar = await loadCalendar(db);
 * isWorkingDay(calendar, "2024-09-27"); // → true
 * isWorkingDay(calendar, "2024-10-01"); // → false
 * isWorkingDay(calendar, "2024-09-29"); // → true
 * ```
 */
export function isWorkingDay(calendar: WorkingCalendar, day: string): boolean {
  const time = dayTime(day);
  const year = Number(day.slice(0, 4));
  if (!calendar.years.includes(year)) {
    throw new RangeError(
      `节假日表中没有 ${year} 年，无法计算工作日（节假日表已有：${describeYears(calendar.years)}）。请在 data/节假日.csv 中按国务院办公厅该年的节假日安排通知补上 ${year} 年`
    );
  }
  if (calendar.workingWeekendDays.has(day)) return true;
  const weekday = new Date(time).getUTCDay();
  return weekday !== 0 && weekday !== 6 && !calendar.daysOff.has(day);
}

/**
 * Working days d with `from` < d ≤ `to` (0 when `to` ≤ `from`): how many working days after a
 * decision a case was reported, for big-case timeliness. Throws like {@link isWorkingDay} when a day
 * counted falls in a year the calendar does not cover.
 *
 * @param calendar - the calendar ({@link loadCalendar} or {@link calendarFromRows})
 * @param from - the first day, not counted, YYYY-MM-DD
 * @param to - the last day, counted, YYYY-MM-DD
 * @returns the number of working days
 * @example
 * ```ts
 * const calendar = await loadCalendar(db);
 * workingDaysBetween(calendar, "2024-09-27", "2024-10-08"); // → 3
 * workingDaysBetween(calendar, "2024-09-27", "2024-09-27"); // → 0
 * ```
 */
export function workingDaysBetween(calendar: WorkingCalendar, from: string, to: string): number {
  let n = 0;
  const last = dayTime(to);
  for (let t = dayTime(from) + DAY_MS; t <= last; t += DAY_MS) {
    if (isWorkingDay(calendar, new Date(t).toISOString().slice(0, 10))) ++n;
  }
  return n;
}
