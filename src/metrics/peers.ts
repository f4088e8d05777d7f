/**
 * 与全省比较: one division's value of a metric against its peers (the divisions at the same level in the
 * province): the peers' median and the division's position by the metric's direction.
 */
import type {MetricRow} from "./index.js";

export interface PeerComparison {
  value: number | null;
  /** The median of the peers' values (divisions without a value left out); null with none. */
  median: number | null;
  /** 1 = best by `direction`, competition-ranked (ties share a position); null without a value. */
  position: number | null;
  /** Peers with a value. */
  peers: number;
}

/**
 * The median of finite values: the middle one, or the mean of the middle two; null when empty.
 * Values that are not finite (NaN, ±Infinity) are left out.
 *
 * @param values - the values, in any order
 * @returns the median, or null
 * @example
 * ```ts
 * median([3, 1, 2]); // → 2
 * median([4, 1, 3, 2]); // → 2.5
 * median([]); // → null
 * ```
 */
export function median(values: readonly number[]): number | null {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return null;
  const mid = Math.floor(n / 2);
  return n % 2 ? (sorted[mid] ?? null) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * 与全省比较: one division's value of a metric against its peers (the rows, usually every division of
 * one level from {@link metricByDivision}): the peers' median and the division's position by the
 * metric's direction (1 = best; ties share a position). Peers without a value are left out.
 *
 * @param rows - the peers' values, including the division's own row
 * @param code - the division's code
 * @param direction - which way is better, usually the metric's `direction` (default "higher")
 * @returns the division's value, the peers' median, its position and how many peers have a value
 * @example
 * ```ts
 * const counties = await metricByDivision(db, "coverage", {level: "县"});
 * comparePeers(counties, "640104", "higher"); // → {value: 0.5783582089552238, median: 0.811377245508982, position: 22, peers: 24}
 * const {position, peers} = comparePeers(await metricByDivision(db, "coverage", {level: "市"}), "640100");
 * `第 ${position}/${peers} 位`; // → "第 4/5 位"
 * ```
 */
export function comparePeers(
  rows: readonly MetricRow[],
  code: string,
  direction: "higher" | "lower" | "neutral" = "higher"
): PeerComparison {
  const values = rows.flatMap((r) => (r.value === null ? [] : [r.value]));
  const value = rows.find((r) => r.code === code)?.value ?? null;
  const better = (v: number): boolean => (direction === "lower" ? v < (value ?? 0) : v > (value ?? 0));
  return {
    value,
    median: median(values),
    position: value === null ? null : values.filter(better).length + 1,
    peers: values.length
  };
}
