/** Helpers the metrics share: adding parts per county, groups of actions, ratios of action counts. */
import {RECOVERY_ACTIONS} from "../schema/actions.js";
import {ident, sqlQuery, type SqlQuery} from "../sql/template.js";
import type {Metric, MetricParts} from "./types.js";

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
/** 协议处理: actions under the service agreement (Shandong 2019 circular). */
export const AGREEMENT = [
  ...RECOVERY_ACTIONS,
  "约谈",
  "限期整改",
  "通报批评",
  "暂停协议",
  "解除协议"
] as const;
/** 行政处罚, fines included. */
export const PENALTY = ["行政处罚", "罚款"] as const;
/** 移交移送: referrals to the police or the discipline inspection commission. */
export const REFERRAL = ["移交公安", "移交纪检监察"] as const;

/** A count of dispositions whose action is one of `actions`. */
export function actionCount(actions: readonly string[]): Pick<Metric, "parts" | "reference"> {
  return {
    parts: sqlQuery`SELECT county, count(*) AS numerator, NULL AS denominator FROM f_dispositions
WHERE action IN ${[...actions]} GROUP BY county`,
    reference(data) {
      const parts = new PartsByCounty(false);
      for (const p of data.dispositions) if (actions.includes(p.action)) parts.add(p.county, 1);
      return parts.map;
    }
  };
}

/** A ratio of disposition counts by action: how many of `over` there are for each of `per`. */
export function actionRatio(
  over: readonly string[],
  per: readonly string[]
): Pick<Metric, "parts" | "reference"> {
  return {
    parts: sqlQuery`SELECT county, count(*) FILTER (WHERE action IN ${[...over]}) AS numerator,
  count(*) FILTER (WHERE action IN ${[...per]}) AS denominator
FROM f_dispositions GROUP BY county`,
    reference(data) {
      const parts = new PartsByCounty(true);
      for (const p of data.dispositions)
        parts.add(p.county, over.includes(p.action) ? 1 : 0, per.includes(p.action) ? 1 : 0);
      return parts.map;
    }
  };
}

/**
 * The dispositions weekly progress counts as funds recovered: 追回, 拒付 and 扣回 with an amount. One
 * condition for the detail rows (src/metrics/progress.ts) and the cube's `cube_recoveries`.
 */
export function recoveredWhere(): SqlQuery {
  return sqlQuery`action IN ${[...RECOVERY_ACTIONS]} AND amount IS NOT NULL`;
}

/**
 * The Friday ending the week of a DATE column (the day itself on a Friday, isodow 5, else the next
 * one): weekly progress's buckets, shared by its query and the cube's weekly tables so they agree.
 *
 * @param column - the column's name, a fixed identifier (never user input)
 * @returns the SQL expression, a DATE
 */
export function fridayOfSql(column: "day" | "decided_on"): SqlQuery {
  return sqlQuery`CAST(${ident(column)} + CAST((12 - isodow(${ident(column)})) % 7 AS INTEGER) AS DATE)`;
}

/**
 * A metric's own common table expressions (`ctes`), to follow the scope's `WITH` clause: `, <ctes>`, or
 * nothing for a metric without.
 */
export function metricCtesSql(metric: Pick<Metric, "ctes">): SqlQuery {
  return metric.ctes
    ? sqlQuery`,
${metric.ctes}`
    : sqlQuery``;
}
