/**
 * Shares of a total (each district's part of the province's recovery, each category's part of the
 * amount involved) and their rounding for display so that the shown percentages add up to exactly 100.
 */

/**
 * Each value's share of the sum, 0–1. Values must be non-negative; with a zero sum every share is null.
 *
 * @param values - non-negative numbers (amounts in fen, counts)
 * @returns the shares, in the same order
 * @example
 * ```ts
 * sharesOf([1, 1, 2]); // → [0.25, 0.25, 0.5]
 * sharesOf([0, 0]); // → [null, null]
 * const cities = await metricByDivision(db, "recovery_total", {level: "市"});
 * sharesOf(cities.map((r) => r.numerator)).map((s) => formatPercent(s)); // → ["38.7%", "8.8%", "19.1%", "18.3%", "15.1%"]
 * ```
 */
export function sharesOf(values: readonly number[]): (number | null)[] {
  let total = 0;
  for (const v of values) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`占比只对非负数计算：${v}`);
    total += v;
  }
  return values.map((v) => (total === 0 ? null : v / total));
}

/**
 * Shares as percentages rounded to `digits` places that sum to exactly 100 (largest-remainder method:
 * each share is rounded down, then the units left over go to the largest remainders, ties to the
 * earlier value). Integer inputs (counts, fen) are computed exactly. `[1, 1, 1]` → `[33.4, 33.3, 33.3]`.
 *
 * @param values - non-negative integers (counts, fen), numbers or BigInts
 * @param digits - decimal places, 0–6 (default 1)
 * @returns the percentages, in the same order; all null when the sum is 0
 * @example
 * ```ts
 * roundedPercents([1, 1, 1]); // → [33.4, 33.3, 33.3]
 * roundedPercents([1, 2, 3], 0); // → [17, 33, 50]
 * const byAction = await recoveryBreakdown(db, "action");
 * roundedPercents(byAction.map((r) => r.amount)); // → [17.2, 14.9, 67.9]
 * ```
 */
export function roundedPercents(values: readonly (number | bigint)[], digits = 1): (number | null)[] {
  if (!Number.isInteger(digits) || digits < 0 || digits > 6)
    throw new RangeError(`无效的小数位数：${digits}`);
  const ints = values.map((v) => {
    if (typeof v === "bigint") {
      if (v < 0n) throw new RangeError(`占比只对非负数计算：${v}`);
      return v;
    }
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`占比的取整只对非负整数计算：${v}`);
    return BigInt(v);
  });
  const total = ints.reduce((a, b) => a + b, 0n);
  if (total === 0n) return values.map(() => null);
  const units = 100n * 10n ** BigInt(digits);
  const floors = ints.map((v) => (v * units) / total);
  const remainders = ints.map((v, i) => ({i, r: v * units - (floors[i] ?? 0n) * total}));
  let left = units - floors.reduce((a, b) => a + b, 0n);
  remainders.sort((a, b) => (b.r > a.r ? 1 : b.r < a.r ? -1 : a.i - b.i));
  for (const {i} of remainders) {
    if (left <= 0n) break;
    floors[i] = (floors[i] ?? 0n) + 1n;
    left -= 1n;
  }
  const scale = 10 ** digits;
  return floors.map((f) => Number(f) / scale);
}
