/**
 * 追回金额的构成: the recovery total (追回 + 拒付 + 扣回, the `recovery_total` metric) broken down by
 * action, violation category, institution kind, level and ownership, and month of the decision; and
 * the largest cases. Computed in SQL and, independently, in JS; every breakdown sums to the metric.
 */
import {RECOVERY_ACTIONS} from "../schema/actions.js";
import {joinSql, sqlQuery, type SqlQuery, type QueryDb} from "../sql/template.js";
import {cubeOf, narrowsDays, TOP_CASES_PER_CELL} from "./cube-info.js";
import {cellWhereSql, checkFilter, scopeData, scopeSql} from "./scope.js";
import type {MetricData, MetricFilter} from "./types.js";

/**
 * What the recovery total can be broken down by ({@link recoveryBreakdown}), with the Chinese names
 * of the dimensions.
 *
 * @example
 * ```ts
 * Object.keys(RECOVERY_DIMENSIONS); // → ["action", "category", "institution_kind", "institution_level", "ownership", "month"]
 * RECOVERY_DIMENSIONS.category; // → "违规类型"
 * ```
 */
export const RECOVERY_DIMENSIONS = {
  action: "处理方式",
  category: "违规类型",
  institution_kind: "机构类别",
  institution_level: "医院等级",
  ownership: "经营性质",
  month: "处理月份"
} as const;
export type RecoveryDimension = keyof typeof RECOVERY_DIMENSIONS;

/**
 * Shown for recovery decided on a whole inspection rather than on one finding: it has no category.
 * The key of such recovery in {@link recoveryBreakdown} by category, and the category of such a case
 * in {@link largestCases}.
 *
 * @example
 * ```ts
 * NO_CATEGORY; // → "未对应具体问题"
 * (await recoveryBreakdown(db, "category")).some((r) => r.key === NO_CATEGORY); // → false
 * ```
 */
export const NO_CATEGORY = "未对应具体问题";

export interface RecoveryShare {
  /** The category, kind, level, ownership, action, or month (`YYYY-MM`). */
  key: string;
  /** Recovered, refused or deducted, in fen. */
  amount: number;
  /** Recovery dispositions counted. */
  dispositions: number;
}

/** One case: a finding (问题), or an inspection for recovery decided on the inspection as a whole. */
export interface RecoveryCase {
  /** The finding's id, or the inspection's for recovery with no finding. */
  id: string;
  inspection_id: string;
  institution_code: string;
  institution_name: string;
  /** The institution's county-level division. */
  county: string;
  /** The violation category; {@link NO_CATEGORY} without a finding. */
  category: string;
  /** 涉及金额 of the finding, in fen; null without a finding. */
  amount_involved: number | null;
  /** Recovered, refused or deducted on this case, in fen. */
  recovered: number;
  /** The recovery actions taken, joined with 、 in code-point order. */
  actions: string;
  /** The last recovery decision, `YYYY-MM-DD`. */
  decided_on: string;
}

/** The data the JS references read: the metric data with institutions' names, levels and ownership. */
export interface RecoveryData extends MetricData {
  institutions: (MetricData["institutions"][number] & {name: string; level: string; ownership: string})[];
}

/** Each dimension's key, over the columns of the recovery records `r`. */
const KEY_SQL: Record<RecoveryDimension, SqlQuery> = {
  action: sqlQuery`action`,
  category: sqlQuery`coalesce(category, CAST(${NO_CATEGORY} AS VARCHAR))`,
  institution_kind: sqlQuery`institution_kind`,
  institution_level: sqlQuery`institution_level`,
  ownership: sqlQuery`ownership`,
  month: sqlQuery`strftime(decided_on, '%Y-%m')`
};

function checkDimension(by: string): asserts by is RecoveryDimension {
  if (!Object.hasOwn(RECOVERY_DIMENSIONS, by))
    throw new RangeError(`追回金额不能按「${by}」分组；可用：${Object.keys(RECOVERY_DIMENSIONS).join("、")}`);
}

/**
 * The scope's `WITH` clause plus `r`: the recovery dispositions in scope, each with its finding,
 * inspection and institution. Everything that counts recovered money starts here.
 */
export function recoverySql(filter: MetricFilter): SqlQuery {
  return sqlQuery`${scopeSql(filter)},
r AS (
  SELECT p.*, f.category, f.amount_involved, s.id AS case_inspection, i.code AS institution_code,
    i.name AS institution_name, i.kind AS institution_kind, i.level AS institution_level, i.ownership
  FROM f_dispositions AS p
  LEFT JOIN findings AS f ON f.id = p.finding_id
  JOIN inspections AS s ON s.id = coalesce(f.inspection_id, p.inspection_id)
  JOIN institutions AS i ON i.code = s.institution_code
  WHERE p.action IN ${[...RECOVERY_ACTIONS]}
)`;
}

/**
 * The SQL of {@link recoveryBreakdown}: one row per key with any recovery (key, amount in fen,
 * dispositions), ordered by key. Throws for a dimension not in {@link RECOVERY_DIMENSIONS}.
 *
 * @param by - the dimension: `"action"`, `"category"`, `"institution_kind"`, `"institution_level"`, `"ownership"` or `"month"`
 * @param filter - which records count (default {}: all)
 * @returns the query, with its bound parameters
 * @example
 * ```ts
 * const query = recoveryBreakdownSql("month", {within: "640500"});
 * (await db.query(query)).map((r) => r.key); // → ["2024-05", "2024-06", "2024-07", "2024-08", "2024-09"]
 * ```
 */
export function recoveryBreakdownSql(by: RecoveryDimension, filter: MetricFilter = {}): SqlQuery {
  checkDimension(by);
  return sqlQuery`${recoverySql(filter)}
SELECT ${KEY_SQL[by]} AS key,
  CAST(coalesce(sum(amount), 0) AS BIGINT) AS amount, CAST(count(*) AS BIGINT) AS dispositions
FROM r GROUP BY 1 ORDER BY 1`;
}

/**
 * The SQL that writes the cube's `cube_recovery_shares` (src/metrics/cube.ts): for every dimension of
 * {@link RECOVERY_DIMENSIONS}, the recovered amount and the number of recovery dispositions per
 * inspection cell (county, institution kind, inspection day, campaign, inspection kind) and key, from
 * the same records `r` and keys as {@link recoveryBreakdownSql}.
 *
 * @returns the SELECT, over the detail tables
 */
export function recoverySharesSql(): SqlQuery {
  const keyed = (Object.keys(RECOVERY_DIMENSIONS) as RecoveryDimension[]).map(
    (by) => sqlQuery`SELECT county, institution_kind, day, campaign_id, inspection_kind,
    CAST(${by} AS VARCHAR) AS dimension, ${KEY_SQL[by]} AS key, amount FROM c`
  );
  return sqlQuery`${recoverySql({})},
c AS (
  SELECT r.county, r.institution_kind, s.date AS day, s.campaign_id, s.kind AS inspection_kind,
    r.action, r.category, r.institution_level, r.ownership, r.decided_on, r.amount
  FROM r JOIN inspections AS s ON s.id = r.case_inspection
)
SELECT county, institution_kind, day, campaign_id, inspection_kind, dimension, key,
  CAST(sum(amount) AS BIGINT) AS amount, CAST(count(*) AS BIGINT) AS dispositions
FROM (${joinSql(keyed, "\nUNION ALL\n")})
GROUP BY ALL
ORDER BY ALL`;
}

/**
 * The SQL of {@link recoveryBreakdown} answered from the cube's `cube_recovery_shares`: the same rows
 * as {@link recoveryBreakdownSql} for every filter. Throws for a dimension not in
 * {@link RECOVERY_DIMENSIONS}.
 *
 * @param by - the dimension
 * @param filter - which records count (default {}: all)
 * @returns the query, with its bound parameters
 */
export function recoveryBreakdownCubeSql(by: RecoveryDimension, filter: MetricFilter = {}): SqlQuery {
  checkDimension(by);
  checkFilter(filter);
  return sqlQuery`SELECT key, CAST(coalesce(sum(amount), 0) AS BIGINT) AS amount,
  CAST(sum(dispositions) AS BIGINT) AS dispositions
FROM ${narrowsDays(filter) ? sqlQuery`cube_recovery_shares` : sqlQuery`cube_recovery_shares_all_days`}
WHERE dimension = ${by} AND ${cellWhereSql(filter)}
GROUP BY 1 ORDER BY 1`;
}

/**
 * The recovery total (追回 + 拒付 + 扣回, the `recovery_total` metric) by `by`, from a database (e.g.
 * the page's db): the amount and the number of dispositions per key, ordered by key. Every breakdown
 * sums to the metric.
 *
 * @param db - the page's `db` (or any {@link QueryDb})
 * @param by - the dimension: `"action"`, `"category"`, `"institution_kind"`, `"institution_level"`, `"ownership"` or `"month"` (month: `YYYY-MM` of the decision)
 * @param filter - which records count (default {}: all)
 * @returns one share per key with any recovery; amounts in fen
 * @example
 * ```ts
 * await recoveryBreakdown(db, "action"); // → [{key: "扣回", amount: 292191515, dispositions: 245}, {key: "拒付", amount: 253544088, dispositions: 216}, {key: "追回", amount: 1153662179, dispositions: 1047}]
 * const months = await recoveryBreakdown(db, "month", {within: "640100"});
 * months.reduce((sum, r) => sum + r.amount, 0); // → 656855947
 * ```
 */
export async function recoveryBreakdown(
  db: QueryDb,
  by: RecoveryDimension,
  filter: MetricFilter = {}
): Promise<RecoveryShare[]> {
  // The SDK's choice: the cube when the database has one (it covers every filter), else the detail rows.
  const rows = await db.query(
    (await cubeOf(db))?.shares ? recoveryBreakdownCubeSql(by, filter) : recoveryBreakdownSql(by, filter)
  );
  return rows.map((r) => ({
    key: String(r.key),
    amount: Number(r.amount),
    dispositions: Number(r.dispositions)
  }));
}

export interface RecoveryRecord {
  id: string;
  amount: number;
  action: string;
  decided_on: string;
  finding: RecoveryData["findings"][number] | undefined;
  inspection: RecoveryData["inspections"][number];
  institution: RecoveryData["institutions"][number];
}

/** The recovery dispositions in scope with their finding, inspection and institution, in JS. */
export function recoveryRecords(data: RecoveryData, filter: MetricFilter): RecoveryRecord[] {
  const scoped = scopeData(data, filter);
  const findings = new Map(data.findings.map((f) => [f.id, f]));
  const inspections = new Map(data.inspections.map((s) => [s.id, s]));
  const institutions = new Map(data.institutions.map((i) => [i.code, i]));
  const recovery = new Set<string>(RECOVERY_ACTIONS);
  return scoped.dispositions.flatMap((p) => {
    if (!recovery.has(p.action)) return [];
    const finding = p.finding_id === null ? undefined : findings.get(p.finding_id);
    const inspection = inspections.get(finding?.inspection_id ?? p.inspection_id ?? "");
    const institution = inspection && institutions.get(inspection.institution_code);
    if (!inspection || !institution) return [];
    return [
      {
        id: p.id,
        amount: p.amount ?? 0,
        action: p.action,
        decided_on: p.decided_on,
        finding,
        inspection,
        institution
      }
    ];
  });
}

/** Code-point order: the order DuckDB sorts VARCHAR in, for references that must match it exactly. */
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The JS reference of {@link recoveryBreakdown}, written without reference to the SQL: the same
 * shares, from plain data.
 *
 * @param data - the loader's tables as plain objects (institutions with name, level and ownership)
 * @param by - the dimension: `"action"`, `"category"`, `"institution_kind"`, `"institution_level"`, `"ownership"` or `"month"`
 * @param filter - which records count (default {}: all)
 * @returns one share per key with any recovery, ordered by key (code-point order, as DuckDB sorts)
 * @example
 * ```ts
 * const shares = recoveryBreakdownReference(data, "ownership");
 * shares.map((r) => r.key); // → ["公立", "民营"]
 * await recoveryBreakdown(db, "ownership"); // → shares
 * ```
 */
export function recoveryBreakdownReference(
  data: RecoveryData,
  by: RecoveryDimension,
  filter: MetricFilter = {}
): RecoveryShare[] {
  checkDimension(by);
  const keyOf: Record<RecoveryDimension, (r: RecoveryRecord) => string> = {
    action: (r) => r.action,
    category: (r) => r.finding?.category ?? NO_CATEGORY,
    institution_kind: (r) => r.institution.kind,
    institution_level: (r) => r.institution.level,
    ownership: (r) => r.institution.ownership,
    month: (r) => r.decided_on.slice(0, 7)
  };
  const totals = new Map<string, RecoveryShare>();
  for (const r of recoveryRecords(data, filter)) {
    const key = keyOf[by](r);
    const share = totals.get(key) ?? {key, amount: 0, dispositions: 0};
    share.amount += r.amount;
    share.dispositions += 1;
    totals.set(key, share);
  }
  return [...totals.values()].sort((a, b) => byCodePoint(a.key, b.key));
}

/** Refuses a row limit that is not a positive integer, naming what it counts. */
export function checkLimit(limit: number, what = "案件数"): void {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`${what}应为正整数：${limit}`);
}

/**
 * The SQL of {@link largestCases}: the cases with the most recovered, largest first (ties by id).
 * Throws unless `limit` is a positive integer.
 *
 * @param filter - which records count (default {}: all)
 * @param limit - how many cases (default 20)
 * @returns the query, with its bound parameters
 * @example
 * ```ts
 * const [top] = await db.query(largestCasesSql({within: "640104"}, 1));
 * [top?.institution_name, top?.recovered]; // → ["兴庆济民卫生院64号", 6279058]
 * ```
 */
export function largestCasesSql(filter: MetricFilter = {}, limit = 20): SqlQuery {
  checkLimit(limit);
  return sqlQuery`${recoverySql(filter)}
SELECT coalesce(finding_id, case_inspection) AS id, any_value(case_inspection) AS inspection_id,
  any_value(institution_code) AS institution_code, any_value(institution_name) AS institution_name,
  any_value(county) AS county, coalesce(any_value(category), CAST(${NO_CATEGORY} AS VARCHAR)) AS category,
  any_value(amount_involved) AS amount_involved,
  CAST(sum(coalesce(amount, 0)) AS BIGINT) AS recovered,
  string_agg(DISTINCT action, '、' ORDER BY action) AS actions,
  strftime(max(decided_on), '%Y-%m-%d') AS decided_on
FROM r GROUP BY coalesce(finding_id, case_inspection)
ORDER BY recovered DESC, id
LIMIT CAST(${limit} AS INTEGER)`;
}

/**
 * largestCasesSql's `string_agg(DISTINCT action, '、' ORDER BY action)` over the recovery actions,
 * written for the cube's every case: one flag per action, joined in code-point order. An ordered
 * aggregate sorts each group (2.85 s of cube_cases' 3.2 s at 1M rows). A list per group, tried first,
 * ran out of the 600 MB at 5M rows while the ingest's tables were still in memory (before
 * `IngestStore.release()`); these flags are fixed-size.
 */
function actionsSql(): SqlQuery {
  const flags = [...RECOVERY_ACTIONS]
    .sort()
    .map((a) => sqlQuery`CASE WHEN bool_or(action = ${a}) THEN CAST(${a} AS VARCHAR) END`);
  return sqlQuery`nullif(concat_ws('、', ${joinSql(flags, ", ")}), '')`;
}

/**
 * The SQL that writes the cube's `cube_cases` (src/metrics/cube.ts): every case with any recovery,
 * grouped and computed exactly as {@link largestCasesSql} does over all records, with its inspection
 * cell (county, institution kind, inspection day, campaign, inspection kind: every dimension a filter
 * can narrow; a case's dispositions all belong to one inspection) and the last decision as a DATE.
 * The institution's name is not stored: the answer takes it from `institutions`.
 *
 * @returns the SELECT, over the detail tables
 */
export function casesCubeSql(): SqlQuery {
  return sqlQuery`${recoverySql({})}
SELECT any_value(county) AS county, any_value(institution_kind) AS institution_kind,
  any_value(s.date) AS day, any_value(s.campaign_id) AS campaign_id, any_value(s.kind) AS inspection_kind,
  coalesce(finding_id, case_inspection) AS id, any_value(case_inspection) AS inspection_id,
  any_value(r.institution_code) AS institution_code,
  coalesce(any_value(category), CAST(${NO_CATEGORY} AS VARCHAR)) AS category,
  any_value(amount_involved) AS amount_involved,
  CAST(sum(coalesce(amount, 0)) AS BIGINT) AS recovered,
  ${actionsSql()} AS actions,
  max(decided_on) AS decided_on
FROM r JOIN inspections AS s ON s.id = r.case_inspection
GROUP BY coalesce(finding_id, case_inspection)
ORDER BY recovered DESC, id`;
}

/**
 * The SQL of {@link largestCases} answered from the cube's `cube_cases`: the same rows as
 * {@link largestCasesSql} for every filter, from one table of one row per case instead of every
 * disposition joined to its finding, inspection and institution (at 5M rows the detail query needs
 * gigabytes of DuckDB-WASM's memory). Throws unless `limit` is a positive integer.
 *
 * @param filter - which records count (default {}: all)
 * @param limit - how many cases (default 20)
 * @param options - the cube's shape (default {})
 * @param options.topCasesPerCell - how many cases of each undated cell `cube_top_cases` holds (its
 *   `cube_meta.top_cases_per_cell`; default {@link TOP_CASES_PER_CELL}): a filter without a date and a
 *   limit up to it is answered from those, any other from `cube_cases`
 * @returns the query, with its bound parameters
 * @example
 * ```ts
 * const query = largestCasesCubeSql({within: "640104"}, 1);
 * query.text.includes("FROM cube_top_cases"); // → true
 * (await db.query(query))[0]?.recovered; // → 6279058
 * ```
 */
export function largestCasesCubeSql(
  filter: MetricFilter = {},
  limit = 20,
  {topCasesPerCell = TOP_CASES_PER_CELL}: {topCasesPerCell?: number} = {}
): SqlQuery {
  checkLimit(limit);
  checkFilter(filter);
  return sqlQuery`SELECT c.id, c.inspection_id, c.institution_code, i.name AS institution_name,
  c.county, c.category, c.amount_involved, c.recovered, c.actions,
  strftime(c.decided_on, '%Y-%m-%d') AS decided_on
FROM (
  SELECT * FROM ${
    narrowsDays(filter) || limit > topCasesPerCell ? sqlQuery`cube_cases` : sqlQuery`cube_top_cases`
  } WHERE ${cellWhereSql(filter)}
  ORDER BY recovered DESC, id
  LIMIT CAST(${limit} AS INTEGER)
) AS c
JOIN institutions AS i ON i.code = c.institution_code
ORDER BY c.recovered DESC, c.id`;
}

/**
 * The `limit` cases with the most recovered, refused or deducted, from a database: per finding (or
 * per inspection for recovery decided on the inspection as a whole), with the institution, county,
 * category, amount involved, amount recovered, actions and last decision date.
 *
 * @param db - the page's `db` (or any {@link QueryDb})
 * @param options - which records and how many (default {})
 * @param options.filter - which records count (default {}: all)
 * @param options.limit - how many cases, a positive integer (default 20)
 * @returns the cases, largest recovery first (ties by id); money in fen
 * @example
 * ```ts
 * const cases = await largestCases(db, {filter: {within: "640100"}, limit: 3});
 * cases.map((c) => `${c.institution_name} ${formatMoney(c.recovered)}`); // → ["兴庆济民卫生院64号 6.28万元", "金凤安康诊所33号 5.94万元", "银川市济民村卫生室109号 5.74万元"]
 * [cases[0]?.category, cases[0]?.actions, cases[0]?.decided_on]; // → ["串换药品", "扣回", "2024-07-04"]
 * ```
 */
export async function largestCases(
  db: QueryDb,
  {filter = {}, limit = 20}: {filter?: MetricFilter; limit?: number} = {}
): Promise<RecoveryCase[]> {
  // The SDK's choice: the cube's cases when the database has them (they cover every filter).
  const cube = await cubeOf(db);
  const rows = await db.query(
    cube?.cases
      ? largestCasesCubeSql(filter, limit, {topCasesPerCell: cube.topCasesPerCell})
      : largestCasesSql(filter, limit)
  );
  return rows.map(recoveryCaseOf);
}

/**
 * The JS reference of {@link largestCases}, written without reference to the SQL: the same cases,
 * from plain data.
 *
 * @param data - the loader's tables as plain objects (institutions with name, level and ownership)
 * @param options - which records and how many (default {})
 * @param options.filter - which records count (default {}: all)
 * @param options.limit - how many cases, a positive integer (default 20)
 * @returns the cases, largest recovery first (ties by id)
 * @example
 * ```ts
 * const cases = largestCasesReference(data, {limit: 5});
 * cases[0]?.institution_name; // → "中宁福康大药房53号"
 * await largestCases(db, {limit: 5}); // → cases
 * ```
 */
export function largestCasesReference(
  data: RecoveryData,
  {filter = {}, limit = 20}: {filter?: MetricFilter; limit?: number} = {}
): RecoveryCase[] {
  checkLimit(limit);
  const cases = new Map<string, RecoveryCase & {actionSet: Set<string>}>();
  for (const r of recoveryRecords(data, filter)) {
    const id = r.finding?.id ?? r.inspection.id;
    const c = cases.get(id) ?? {
      id,
      inspection_id: r.inspection.id,
      institution_code: r.institution.code,
      institution_name: r.institution.name,
      county: r.institution.division_code,
      category: r.finding?.category ?? NO_CATEGORY,
      amount_involved: r.finding?.amount_involved ?? null,
      recovered: 0,
      actions: "",
      decided_on: r.decided_on,
      actionSet: new Set<string>()
    };
    c.recovered += r.amount;
    c.actionSet.add(r.action);
    if (r.decided_on > c.decided_on) c.decided_on = r.decided_on;
    cases.set(id, c);
  }
  return [...cases.values()]
    .sort((a, b) => b.recovered - a.recovered || byCodePoint(a.id, b.id))
    .slice(0, limit)
    .map(({actionSet, ...c}) => ({...c, actions: [...actionSet].sort(byCodePoint).join("、")}));
}

/**
 * One row of {@link largestCasesSql} or {@link largestCasesCubeSql} as a {@link RecoveryCase}.
 *
 * @param r - the row, as a database returns it
 * @returns the case
 */
export function recoveryCaseOf(r: Record<string, unknown>): RecoveryCase {
  return {
    id: String(r.id),
    inspection_id: String(r.inspection_id),
    institution_code: String(r.institution_code),
    institution_name: String(r.institution_name),
    county: String(r.county),
    category: String(r.category),
    amount_involved: r.amount_involved === null ? null : Number(r.amount_involved),
    recovered: Number(r.recovered),
    actions: String(r.actions),
    decided_on: String(r.decided_on)
  };
}
