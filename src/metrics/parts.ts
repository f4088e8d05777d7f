/** Helpers the reference implementations share: adding parts per county. */
import type {MetricParts} from "./types.js";

export class PartsByCounty {
  readonly map = new Map<string, MetricParts>();
  constructor(private readonly ratio: boolean) {}
  add(county: string, numerator: number, denominator = 0): this {
    const parts = this.map.get(county) ?? {numerator: 0, denominator: this.ratio ? 0 : null};
    parts.numerator += numerator;
    if (parts.denominator !== null) parts.denominator += denominator;
    this.map.set(county, parts);
    return this;
  }
}

/** Inspection kinds that are not on-site inspections of an institution. */
export const NOT_ON_SITE = ["自查自纠", "智能监控"] as const;
/** Dispositions whose amounts are recovered funds. */
export const RECOVERY = ["追回", "拒付", "扣回"] as const;
