/** Summary statistics of repeated measurements: the median with the spread (min and max) and the count. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** How many runs gave a value (failed runs are left out and listed where they happened). */
  n: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** The summary of `values`, ignoring null (a run that failed); null when no run gave a value. */
export function summarize(values: readonly (number | null | undefined)[]): Summary | null {
  const ok = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (ok.length === 0) return null;
  return {median: median(ok), min: Math.min(...ok), max: Math.max(...ok), n: ok.length};
}

/** a ÷ b of two medians, or null when either is missing or b is 0. */
export function ratio(a: Summary | null | undefined, b: Summary | null | undefined): number | null {
  if (!a || !b || b.median === 0) return null;
  return a.median / b.median;
}

/** Runs `task` `runs` times in sequence and returns the results in order. */
export async function repeat<T>(runs: number, task: (run: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let run = 0; run < runs; ++run) results.push(await task(run));
  return results;
}
