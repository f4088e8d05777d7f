/**
 * The metric library: every metric by division at any level, filtered, computed in SQL (DuckDB) or
 * by the JS reference. Both give the same parts; {@link metricValue} turns parts into the value.
 */
import {sqlQuery, type SqlQuery, type QueryDb} from "../sql/template.js";
import {agreementPenaltyBalance} from "./agreement-penalty-balance.js";
import {amountInvolved} from "./amount-involved.js";
import {bigCaseTimeliness} from "./big-case-timeliness.js";
import {criticismReferralBalance} from "./criticism-referral-balance.js";
import {inspectionProblemBalance} from "./inspection-problem-balance.js";
import {interviewSuspensionBalance} from "./interview-suspension-balance.js";
import {rereviewRatio} from "./rereview-ratio.js";
import {coverage} from "./coverage.js";
import {fines} from "./fines.js";
import {findingsCount} from "./findings.js";
import {penalties} from "./penalties.js";
import {referrals} from "./referrals.js";
import {problemRate} from "./problem-rate.js";
import {recoveryRatio} from "./recovery-ratio.js";
import {recoveryTotal} from "./recovery-total.js";
import {PartsByCounty} from "./parts.js";
import {groupsOf, groupsSql, scopeData, scopeSql} from "./scope.js";
import type {DivisionLevel, Metric, MetricData, MetricFilter, MetricParts} from "./types.js";

export type {DivisionLevel, Metric, MetricData, MetricFilter, MetricParts, ScopedData} from "./types.js";
export {scopeData, scopeSql} from "./scope.js";
export * from "./campaign.js";
export * from "./progress.js";
export * from "./reconcile.js";
export * from "./ranking.js";
export * from "./shares.js";
export * from "./recovery.js";
export * from "./institutions.js";
export * from "./peers.js";
export {isWorkingDay, workingDaysBetween} from "./calendar.js";

export const METRICS: readonly Metric[] = [
  coverage,
  problemRate,
  findingsCount,
  amountInvolved,
  recoveryTotal,
  fines,
  penalties,
  referrals,
  recoveryRatio,
  inspectionProblemBalance,
  agreementPenaltyBalance,
  interviewSuspensionBalance,
  criticismReferralBalance,
  rereviewRatio,
  bigCaseTimeliness
];

export function metricById(id: string): Metric {
  const metric = METRICS.find((m) => m.id === id);
  if (!metric) throw new RangeError(`没有指标「${id}」；可用的指标：${METRICS.map((m) => m.id).join("、")}`);
  return metric;
}

/** One division's result. `value` is null when the denominator is 0 (no basis for a ratio). */
export interface MetricRow extends MetricParts {
  code: string;
  value: number | null;
}

export function metricValue(parts: MetricParts): number | null {
  if (parts.denominator === null) return parts.numerator;
  return parts.denominator === 0 ? null : parts.numerator / parts.denominator;
}

export interface ByDivisionOptions {
  level?: DivisionLevel;
  filter?: MetricFilter;
}

/**
 * The SQL of a metric by division: one row per division at `level` (code, numerator, denominator),
 * divisions with nothing to count included with zero parts. Values are bound, never spliced.
 */
export function metricSql(metric: Metric, {level = "县", filter = {}}: ByDivisionOptions = {}): SqlQuery {
  const ratio = metric.unit === "%";
  const extra = metric.ctes
    ? sqlQuery`,
${metric.ctes}`
    : sqlQuery``;
  return sqlQuery`${scopeSql(filter)}${extra},
parts AS (${metric.parts}),
groups AS (${groupsSql(level, filter.within)})
SELECT g.code,
  CAST(coalesce(sum(p.numerator), 0) AS BIGINT) AS numerator,
  ${ratio ? sqlQuery`CAST(coalesce(sum(p.denominator), 0) AS BIGINT)` : sqlQuery`CAST(NULL AS BIGINT)`} AS denominator
FROM groups AS g LEFT JOIN parts AS p ON p.county = g.county
WHERE g.code IS NOT NULL
GROUP BY g.code
ORDER BY g.code`;
}

/** Turns query rows into {@link MetricRow}s. */
export function toMetricRows(
  rows: readonly {code: unknown; numerator: unknown; denominator: unknown}[]
): MetricRow[] {
  return rows.map((r) => {
    const parts = {
      numerator: Number(r.numerator),
      denominator: r.denominator === null ? null : Number(r.denominator)
    };
    return {code: String(r.code), ...parts, value: metricValue(parts)};
  });
}

/** The JS reference of {@link metricSql}: the same rows, computed from plain data. */
export function metricReference(
  metric: Metric,
  data: MetricData,
  {level = "县", filter = {}}: ByDivisionOptions = {}
): MetricRow[] {
  const ratio = metric.unit === "%";
  const byCounty = metric.reference(scopeData(data, filter));
  const totals = new PartsByCounty(ratio);
  for (const [county, code] of groupsOf(data, level, filter.within)) {
    const p = byCounty.get(county);
    if (code !== null) totals.add(code, p?.numerator ?? 0, p?.denominator ?? 0);
  }
  return [...totals.map.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([code, parts]) => ({code, ...parts, value: metricValue(parts)}));
}

/** Runs a metric by division on a database (anything with `query(SqlQuery)`, e.g. the page's db). */
export async function metricByDivision(
  db: QueryDb,
  metricOrId: Metric | string,
  options: ByDivisionOptions = {}
): Promise<MetricRow[]> {
  const metric = typeof metricOrId === "string" ? metricById(metricOrId) : metricOrId;
  return toMetricRows(
    (await db.query(metricSql(metric, options))) as {
      code: unknown;
      numerator: unknown;
      denominator: unknown;
    }[]
  );
}
