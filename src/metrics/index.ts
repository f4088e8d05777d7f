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
import {metricCtesSql, PartsByCounty} from "./parts.js";
import {closestName, groupsOf, scopeData, scopeSql} from "./scope.js";
import {cubeCovers, cubeOf, groupedParts, metricCubeSql} from "./cube.js";
import type {DivisionLevel, Metric, MetricData, MetricFilter, MetricParts} from "./types.js";

export type {
  DivisionLevel,
  Metric,
  MetricData,
  MetricFilter,
  MetricMeasure,
  MetricParts,
  ScopedData
} from "./types.js";
export {scopeData, scopeSql} from "./scope.js";
export {
  buildCube,
  cubeBuildSql,
  cubeColumn,
  cubeCovers,
  cubeOf,
  metricCubeSql,
  narrowsDays,
  CUBE_DIMENSIONS,
  CUBE_TABLES,
  CUBE_VERSION,
  TOP_CASES_PER_CELL,
  type CubeInfo
} from "./cube.js";
export * from "./campaign.js";
export * from "./progress.js";
export * from "./reconcile.js";
export * from "./ranking.js";
export * from "./shares.js";
export * from "./recovery.js";
export * from "./institutions.js";
export * from "./peers.js";
export {
  calendarFromRows,
  describeYears,
  isWorkingDay,
  loadCalendar,
  workingDaysBetween,
  type CalendarDay,
  type WorkingCalendar
} from "./calendar.js";

/**
 * Every metric of the library, in the order pages list them: id, Chinese name, unit (`元` with parts
 * in fen, `%`, `家`, `件`), direction, description, and its SQL and JS reference.
 *
 * @example
 * ```ts
 * METRICS.length; // → 15
 * METRICS.slice(0, 3).map((m) => `${m.id} ${m.name}`); // → ["coverage 检查覆盖率", "problem_rate 问题发现率", "findings 发现违规问题数"]
 * METRICS.filter((m) => m.unit === "元").map((m) => m.id); // → ["amount_involved", "recovery_total", "fines"]
 * ```
 */
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

/**
 * The metric with this id; throws a `RangeError` in Chinese listing the ids there are.
 *
 * @param id - the metric's id, e.g. `"coverage"` (see {@link METRICS})
 * @returns the metric
 * @example
 * ```ts
 * const metric = metricById("problem_rate");
 * [metric.name, metric.unit, metric.direction]; // → ["问题发现率", "%", "higher"]
 * ```
 */
export function metricById(id: string): Metric {
  const metric = METRICS.find((m) => m.id === id);
  if (metric) return metric;
  const byName = METRICS.find((m) => m.name === id);
  const ids = METRICS.map((m) => m.id);
  const guess = typeof id === "string" ? closestName(id, ids) : undefined;
  const hint = byName
    ? `「${id}」是指标名称，请用它的 id「${byName.id}」。`
    : guess
      ? `您是不是要用「${guess}」？`
      : "";
  throw new RangeError(
    `没有指标「${String(id)}」。${hint}可用的指标：${METRICS.map((m) => `${m.id}（${m.name}）`).join("、")}`
  );
}

/** A metric given as itself or by id; anything else (undefined, a number) is named in Chinese. */
function metricOf(metricOrId: Metric | string): Metric {
  if (typeof metricOrId === "string") return metricById(metricOrId);
  const given = metricOrId as unknown;
  if (typeof given !== "object" || given === null || typeof (given as {id?: unknown}).id !== "string")
    throw new TypeError(
      `指标应为指标编号（文本，例如 "coverage"）或 metricById(…) 的结果；收到 ${given === undefined ? "undefined（是否忘了传指标？）" : (JSON.stringify(given) ?? String(given))}`
    );
  const measure = (given as {measure?: {kind?: unknown}}).measure;
  if (measure?.kind !== "total" && measure?.kind !== "ratio")
    throw new TypeError(
      `指标「${metricOrId.id}」没有声明 measure：合计写 measure: {kind: "total"}；比率写 measure: {kind: "ratio", numerator: "分子是什么", denominator: "分母是什么"}（不按单位推断：每家追回金额的单位是元，却是比率）`
    );
  return metricOrId;
}

/** One division's result. `value` is null when the denominator is 0 (no basis for a ratio). */
export interface MetricRow extends MetricParts {
  code: string;
  value: number | null;
}

/**
 * A metric's value from its parts: numerator ÷ denominator for a ratio (null when the denominator is
 * 0: no basis for a ratio), the numerator itself for a total (denominator null).
 *
 * @param parts - the numerator and denominator, e.g. a {@link MetricRow}
 * @returns the value, or null
 * @example
 * ```ts
 * metricValue({numerator: 1511, denominator: 1983}); // → 0.761976802824004
 * metricValue({numerator: 0, denominator: 0}); // → null
 * metricValue({numerator: 656855947, denominator: null}); // → 656855947
 * ```
 */
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
 * {@link metricByDivision} runs it; use this to run it yourself or to show it.
 *
 * @param metric - the metric (see {@link metricById})
 * @param options - which divisions and records (default {})
 * @param options.level - the level of the rows: `"省"`, `"市"` or `"县"` (default "县")
 * @param options.filter - which records count (default {}: all)
 * @returns the query, with its bound parameters
 * @example
 * ```ts
 * const query = metricSql(metricById("findings"), {level: "市", filter: {campaign: "ZX2024"}});
 * query.params; // → ["ZX2024", "市"]
 * (await db.query(query))[0]; // → {code: "640100", numerator: 588, denominator: null}
 * ```
 */
export function metricSql(metric: Metric, {level = "县", filter = {}}: ByDivisionOptions = {}): SqlQuery {
  const extra = metricCtesSql(metric);
  return sqlQuery`${scopeSql(filter)}${extra},
parts AS (${metric.parts}),
${groupedParts(metric, level, filter.within)}`;
}

/**
 * Turns the rows of {@link metricSql} (numbers or BigInts) into {@link MetricRow}s, adding each
 * row's value ({@link metricValue}).
 *
 * @param rows - rows with `code`, `numerator` and `denominator`
 * @returns the rows as numbers, with their values
 * @example
 * ```ts
 * toMetricRows([{code: "640100", numerator: 1511n, denominator: 1983n}]); // → [{code: "640100", numerator: 1511, denominator: 1983, value: 0.761976802824004}]
 * ```
 */
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

/**
 * The JS reference of {@link metricSql}: the same rows, computed from plain data independently of
 * the SQL (the tests require the two to agree exactly).
 *
 * @param metric - the metric (see {@link metricById})
 * @param data - the loader's tables as plain objects
 * @param options - which divisions and records (default {})
 * @param options.level - the level of the rows: `"省"`, `"市"` or `"县"` (default "县")
 * @param options.filter - which records count (default {}: all)
 * @returns one row per division, ordered by code
 * @example
 * ```ts
 * const rows = metricReference(metricById("coverage"), data, {level: "市"});
 * rows[0]; // → {code: "640100", numerator: 1511, denominator: 1983, value: 0.761976802824004}
 * await metricByDivision(db, "coverage", {level: "市"}); // → rows
 * ```
 */
export function metricReference(
  metric: Metric,
  data: MetricData,
  {level = "县", filter = {}}: ByDivisionOptions = {}
): MetricRow[] {
  const ratio = metric.measure.kind === "ratio";
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

/**
 * The query {@link metricByDivision} runs on `db`: from the build's cube (src/metrics/cube.ts) when
 * the database has one that covers the metric under this filter, else from the detail rows
 * ({@link metricSql}). Both give the same rows; the tests require it.
 *
 * @param db - the database the query is for
 * @param metric - the metric
 * @param options - which divisions and records (default {})
 * @param options.level - the level of the rows: `"省"`, `"市"` or `"县"` (default "县")
 * @param options.filter - which records count (default {}: all)
 * @returns the query
 * @example
 * ```ts
 * (await metricQuery(db, metricById("findings"), {level: "市"})).text.includes("cube_cells"); // → true
 * ```
 */
export async function metricQuery(
  db: QueryDb,
  metric: Metric,
  options: ByDivisionOptions = {}
): Promise<SqlQuery> {
  const cube = await cubeOf(db);
  if (cube && cubeCovers(metric, options.filter ?? {}, cube)) {
    const query = metricCubeSql(metric, options);
    if (query) return query;
  }
  return metricSql(metric, options);
}

/**
 * Runs a metric by division on a database (anything with `query(SqlQuery)`, e.g. the page's db): one
 * row per division at the level, ordered by code. A city's value is the sum of its counties'
 * numerators over the sum of their denominators, never an average of ratios.
 *
 * @param db - the page's `db` (or any {@link QueryDb})
 * @param metricOrId - the metric, or its id (e.g. `"coverage"`)
 * @param options - which divisions and records (default {})
 * @param options.level - the level of the rows: `"省"`, `"市"` or `"县"` (default "县")
 * @param options.filter - which records count; with `within`, only the divisions under it (default {}: all)
 * @returns one {@link MetricRow} per division; money metrics have the numerator in fen and a null denominator
 * @example
 * ```ts
 * const cities = await metricByDivision(db, "coverage", {level: "市"});
 * cities.map((r) => formatPercent(r.value)); // → ["76.2%", "78.6%", "77.6%", "77.5%", "73.3%"]
 * await metricByDivision(db, "recovery_total", {level: "省"}); // → [{code: "640000", numerator: 1699397782, denominator: null, value: 1699397782}]
 * (await metricByDivision(db, "coverage", {filter: {within: "640100"}}))[0]; // → {code: "640104", numerator: 155, denominator: 268, value: 0.5783582089552238}
 * ```
 */
export async function metricByDivision(
  db: QueryDb,
  metricOrId: Metric | string,
  options: ByDivisionOptions = {}
): Promise<MetricRow[]> {
  const metric = metricOf(metricOrId);
  return toMetricRows(
    (await db.query(await metricQuery(db, metric, options))) as {
      code: unknown;
      numerator: unknown;
      denominator: unknown;
    }[]
  );
}
