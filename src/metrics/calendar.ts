/**
 * Working days in mainland China: Monday to Friday, minus public holidays, plus the weekend days
 * made working days (调休). From the State Council's holiday notices for each year; a date in a year
 * not in this table is an error, never a guess.
 */

const DAY_MS = 86_400_000;

/** 法定节假日 (days off that fall on weekdays or weekends) by year. */
export const HOLIDAYS: Readonly<Record<number, readonly string[]>> = {
  2024: [
    "2024-01-01",
    ...range("2024-02-10", "2024-02-17"),
    ...range("2024-04-04", "2024-04-06"),
    ...range("2024-05-01", "2024-05-05"),
    "2024-06-10",
    ...range("2024-09-15", "2024-09-17"),
    ...range("2024-10-01", "2024-10-07")
  ],
  2025: [
    "2025-01-01",
    ...range("2025-01-28", "2025-02-04"),
    ...range("2025-04-04", "2025-04-06"),
    ...range("2025-05-01", "2025-05-05"),
    ...range("2025-05-31", "2025-06-02"),
    ...range("2025-10-01", "2025-10-08")
  ]
};

/** 调休上班: weekend days that are working days. */
export const ADJUSTED_WORKDAYS: Readonly<Record<number, readonly string[]>> = {
  2024: [
    "2024-02-04",
    "2024-02-18",
    "2024-04-07",
    "2024-04-28",
    "2024-05-11",
    "2024-09-14",
    "2024-09-29",
    "2024-10-12"
  ],
  2025: ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"]
};

export const CALENDAR_YEARS = Object.keys(HOLIDAYS).map(Number);

function range(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

const holidays = new Set(Object.values(HOLIDAYS).flat());
const adjusted = new Set(Object.values(ADJUSTED_WORKDAYS).flat());

/**
 * Whether a day is a working day in mainland China: Monday to Friday, minus public holidays, plus the
 * weekend days made working days (调休). Throws for a year not in the holiday table (2024–2025).
 *
 * @param day - the day, YYYY-MM-DD
 * @returns true on a working day
 * @example
 * ```ts
 * isWorkingDay("2024-09-27"); // → true
 * isWorkingDay("2024-10-01"); // → false
 * isWorkingDay("2024-09-29"); // → true
 * ```
 */
export function isWorkingDay(day: string): boolean {
  const year = Number(day.slice(0, 4));
  if (!CALENDAR_YEARS.includes(year)) {
    throw new RangeError(
      `节假日表中没有 ${year} 年，无法计算工作日（已有：${CALENDAR_YEARS.join("、")} 年）`
    );
  }
  if (adjusted.has(day)) return true;
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
  return weekday !== 0 && weekday !== 6 && !holidays.has(day);
}

/**
 * Working days d with `from` < d ≤ `to` (0 when `to` ≤ `from`): how many working days after a
 * decision a case was reported, for big-case timeliness.
 *
 * @param from - the first day, not counted, YYYY-MM-DD
 * @param to - the last day, counted, YYYY-MM-DD
 * @returns the number of working days
 * @example
 * ```ts
 * workingDaysBetween("2024-09-27", "2024-10-08"); // → 3
 * workingDaysBetween("2024-09-27", "2024-09-27"); // → 0
 * ```
 */
export function workingDaysBetween(from: string, to: string): number {
  let n = 0;
  for (let t = Date.parse(`${from}T00:00:00Z`) + DAY_MS; t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) {
    if (isWorkingDay(new Date(t).toISOString().slice(0, 10))) ++n;
  }
  return n;
}
