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

/** `formatDate("2024-05-10")` → `"2024年5月10日"`. Null and undefined give `"—"`. */
export function formatDate(value: string | Date | null | undefined): string {
  if (value == null) return "—";
  const {year, month, day} = dateParts(value);
  return `${year}年${month}月${day}日`;
}

/** `formatDateTime(new Date(...))` → `"2024年5月10日 08:05"` in the given IANA time zone (default Asia/Shanghai). */
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
  return `${get("year")}年${get("month")}月${get("day")}日 ${get("hour")}:${get("minute")}`;
}
