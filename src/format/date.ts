/**
 * Chinese date formatting. Dates are parsed from ISO strings (YYYY-MM-DD) or Date objects only,
 * never from free text; the calendar day is read in UTC so the time zone cannot shift it.
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/;

/** Calendar parts of an ISO date string or Date, validated (2024-02-30 is rejected). */
export function dateParts(value: string | Date): {year: number; month: number; day: number} {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new RangeError("无效日期");
    return {year: value.getUTCFullYear(), month: value.getUTCMonth() + 1, day: value.getUTCDate()};
  }
  const match = ISO_DATE.exec(value);
  if (!match) throw new RangeError(`日期必须是 ISO 格式 (YYYY-MM-DD): ${value}`);
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new RangeError(`不存在的日期: ${value}`);
  }
  return {year, month, day};
}

/**
 * Writes a calendar day in Chinese: `formatDate("2024-05-10")` → `"2024年5月10日"`. The day is read from
 * the ISO text (or a Date's UTC day), so the time zone cannot shift it; an impossible day
 * (`2024-02-30`) or text not in ISO form throws. Null and undefined give `"—"`.
 *
 * @param value - the day: `YYYY-MM-DD` (a time after `T` is ignored) or a Date
 * @returns the day as `YYYY年M月D日`, or `"—"`
 * @example
 * ```ts
 * const meta = await loadMeta(db);
 * `数据截至${formatDate(meta.asOf)}`; // → "数据截至2024年9月27日"
 * formatDate(new Date(Date.UTC(2024, 4, 15))); // → "2024年5月15日"
 * formatDate(null); // → "—"
 * ```
 */
export function formatDate(value: string | Date | null | undefined): string {
  if (value == null) return "—";
  const {year, month, day} = dateParts(value);
  return `${year}年${month}月${day}日`;
}

/**
 * Writes a moment as date and time (24-hour clock) in a time zone, e.g. when the data was generated:
 * `formatDateTime(new Date("2024-10-31T02:30:00Z"))` → `"2024年10月31日 10:30"` in Beijing time.
 *
 * @param value - the moment
 * @param options - the time zone (default {})
 * @param options.timeZone - an IANA time zone name (default "Asia/Shanghai")
 * @returns the date and time as text
 * @example
 * ```ts
 * formatDateTime(new Date("2024-10-31T02:30:00Z")); // → "2024年10月31日 10:30"
 * formatDateTime(new Date("2024-10-31T02:30:00Z"), {timeZone: "UTC"}); // → "2024年10月31日 02:30"
 * formatDateTime(new Date("2024-05-09T16:05:00Z")); // → "2024年5月10日 00:05"
 * ```
 */
export function formatDateTime(value: Date, {timeZone = "Asia/Shanghai"}: {timeZone?: string} = {}): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23"
  }).formatToParts(value);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? "";
  // Some ICU versions pad "numeric" months and days in en-CA ("05"): the Chinese form never does.
  const n = (type: string): number => Number(get(type));
  return `${n("year")}年${n("month")}月${n("day")}日 ${get("hour")}:${get("minute")}`;
}
