/** Chinese-aware text helpers. */

const collator = new Intl.Collator("zh-CN");

/** Compares two strings in Chinese (pinyin) order, for `Array.prototype.sort`. */
export function compareZh(a: string, b: string): number {
  return collator.compare(a, b);
}

/** Formats a count with thousands separators and an optional unit: `formatCount(1722, "条")` → `"1,722条"`. */
export function formatCount(value: number | null | undefined, unit = ""): string {
  if (value == null || Number.isNaN(value)) return "—";
  return `${value.toLocaleString("en-US", {maximumFractionDigits: 0})}${unit}`;
}
