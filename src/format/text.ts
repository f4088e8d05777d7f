/** Chinese-aware text helpers. */

const collator = new Intl.Collator("zh-CN");

/**
 * Compares two strings in Chinese (pinyin) order, for `Array.prototype.sort`: the order a reader
 * expects for division, institution and category names (Unicode order is not pinyin order).
 *
 * @param a - the first string
 * @param b - the second string
 * @returns negative if `a` comes first, positive if `b` does, 0 if they are equal
 * @example
 * ```ts
 * const cities = (await loadDivisions(db)).filter((d) => d.level === "市").map((d) => d.name);
 * cities.sort(compareZh); // → ["固原市", "石嘴山市", "吴忠市", "银川市", "中卫市"]
 * ["兴庆区", "西夏区", "金凤区"].sort(compareZh); // → ["金凤区", "西夏区", "兴庆区"]
 * ```
 */
export function compareZh(a: string, b: string): number {
  return collator.compare(a, b);
}

/**
 * Formats a count with thousands separators and an optional unit: `formatCount(1722, "条")` → `"1,722条"`.
 * A fraction is rounded to a whole number. Null, undefined and NaN give `"—"`.
 *
 * @param value - the count
 * @param unit - text appended after the number, e.g. `"件"` or `" 家"` (default "")
 * @returns the count as text, or `"—"`
 * @example
 * ```ts
 * const [row] = await db.sql`SELECT count(*)::INTEGER AS n FROM inspections`;
 * formatCount(Number(row?.n), " 次"); // → "4,200 次"
 * formatCount(12345); // → "12,345"
 * formatCount(null, " 家"); // → "—"
 * ```
 */
export function formatCount(value: number | null | undefined, unit = ""): string {
  if (value == null || Number.isNaN(value)) return "—";
  return `${value.toLocaleString("en-US", {maximumFractionDigits: 0})}${unit}`;
}
