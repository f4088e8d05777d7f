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

/** The median of finite values: the middle one, or the mean of the middle two; null when empty. */
export function median(values: readonly number[]): number | null {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return null;
  const mid = Math.floor(n / 2);
  return n % 2 ? (sorted[mid] ?? null) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

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
