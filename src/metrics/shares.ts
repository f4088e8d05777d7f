/**
 * Shares of a total (each district's part of the province's recovery, each category's part of the
 * amount involved) and their rounding for display so that the shown percentages add up to exactly 100.
 */

/** Each value's share of the sum, 0–1. Values must be non-negative; with a zero sum every share is null. */
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
