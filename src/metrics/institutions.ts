/**
 * 有问题的机构: the institutions in scope with at least one finding — how many findings, the amount
 * involved, what was recovered from them (追回 + 拒付 + 扣回) and the categories found. Computed in SQL
 * and, independently, in JS.
 */
import {sqlQuery, type SqlQuery, type QueryDb} from "../sql/template.js";
import {byCodePoint, checkLimit, recoveryRecords, recoverySql, type RecoveryData} from "./recovery.js";
import {cubeOf} from "./cube-info.js";
import {checkFilter, cellWhereSql, scopeData} from "./scope.js";
import type {MetricFilter} from "./types.js";

export interface InstitutionFindings {
  code: string;
  name: string;
  /** Its county-level division. */
  county: string;
  kind: string;
  level: string;
  ownership: string;
  /** Findings (违规问题) in scope. */
  findings: number;
  /** 涉及金额 of those findings, in fen. */
  amount_involved: number;
  /** Recovered, refused or deducted from the institution in scope, in fen. */
  recovered: number;
  /** The violation categories found, joined with 、 in code-point order. */
  categories: string;
  /** The last inspection that found a problem, `YYYY-MM-DD`. */
  last_inspected: string;
}

/**
 * The SQL of {@link institutionsWithFindings}: most involved first (ties by code). Throws unless
 * `limit` is a positive integer.
 *
 * @param filter - which records count (default {}: all)
 * @param limit - how many institutions (default 50)
 * @returns the query, with its bound parameters
 * @example
 * ```ts
 * const rows = await db.query(institutionsWithFindingsSql({within: "640500"}, 3));
 * rows.map((r) => r.name); // → ["中宁安康大药房14号", "海原福康卫生院82号", "海原济民诊所101号"]
 * ```
 */
export function institutionsWithFindingsSql(filter: MetricFilter = {}, limit = 50): SqlQuery {
  checkLimit(limit, "机构数");
  return sqlQuery`${recoverySql(filter)},
found AS (
  SELECT s.institution_code AS code, count(*) AS findings, sum(f.amount_involved) AS amount_involved,
    string_agg(DISTINCT f.category, '、' ORDER BY f.category) AS categories,
    strftime(max(s.date), '%Y-%m-%d') AS last_inspected
  FROM f_findings AS f JOIN f_inspections AS s ON s.id = f.inspection_id
  GROUP BY s.institution_code
),
recovered AS (
  SELECT institution_code AS code, sum(coalesce(amount, 0)) AS recovered FROM r GROUP BY institution_code
)
SELECT i.code, i.name, i.division_code AS county, i.kind, i.level, i.ownership,
  CAST(found.findings AS BIGINT) AS findings, CAST(found.amount_involved AS BIGINT) AS amount_involved,
  CAST(coalesce(recovered.recovered, 0) AS BIGINT) AS recovered, found.categories, found.last_inspected
FROM found JOIN institutions AS i ON i.code = found.code
LEFT JOIN recovered ON recovered.code = found.code
ORDER BY amount_involved DESC, i.code
LIMIT CAST(${limit} AS INTEGER)`;
}

/**
 * The SQL that writes the cube's `cube_institution_findings` (src/metrics/cube.ts): per inspection cell
 * (county, institution kind, inspection day, campaign, inspection kind) and institution, the findings
 * of its inspections there (how many, their amount involved, their distinct categories in code-point
 * order) and what was recovered on cases of those inspections: the additive parts of
 * {@link institutionsWithFindingsSql} (the last inspection with a finding is the latest such cell's day).
 *
 * @returns the SELECT, over the detail tables
 */
export function institutionFindingsCubeSql(): SqlQuery {
  return sqlQuery`${recoverySql({})},
found AS (
  SELECT f.county, i.kind AS institution_kind, s.date AS day, s.campaign_id, s.kind AS inspection_kind,
    s.institution_code, count(*) AS findings, sum(f.amount_involved) AS amount_involved,
    list_sort(list_distinct(list(f.category))) AS categories
  FROM f_findings AS f JOIN inspections AS s ON s.id = f.inspection_id
  JOIN institutions AS i ON i.code = s.institution_code
  GROUP BY ALL
),
recovered AS (
  SELECT r.county, r.institution_kind, s.date AS day, s.campaign_id, s.kind AS inspection_kind,
    r.institution_code, sum(coalesce(r.amount, 0)) AS recovered
  FROM r JOIN inspections AS s ON s.id = r.case_inspection
  GROUP BY ALL
)
SELECT county, institution_kind, day, campaign_id, inspection_kind, institution_code,
  CAST(sum(findings) AS BIGINT) AS findings, CAST(sum(amount_involved) AS BIGINT) AS amount_involved,
  any_value(categories) AS categories, CAST(sum(recovered) AS BIGINT) AS recovered
FROM (
  SELECT *, NULL AS recovered FROM found
  UNION ALL BY NAME
  SELECT *, CAST(NULL AS BIGINT) AS findings, CAST(NULL AS BIGINT) AS amount_involved,
    CAST(NULL AS VARCHAR[]) AS categories FROM recovered
)
GROUP BY ALL
ORDER BY institution_code, day, county, institution_kind, campaign_id NULLS FIRST, inspection_kind`;
}

/**
 * The SQL of {@link institutionsWithFindings} answered from the cube's `cube_institution_findings`:
 * the same rows as {@link institutionsWithFindingsSql} for every filter, from one table of one row per
 * institution and inspection cell instead of every finding and disposition joined to its inspection.
 * Throws unless `limit` is a positive integer.
 *
 * @param filter - which records count (default {}: all)
 * @param limit - how many institutions (default 50)
 * @returns the query, with its bound parameters
 * @example
 * ```ts
 * const query = institutionsWithFindingsCubeSql({within: "640500"}, 3);
 * query.text.includes("cube_institution_findings"); // → true
 * (await db.query(query)).map((r) => r.name); // → ["中宁安康大药房14号", "海原福康卫生院82号", "海原济民诊所101号"]
 * ```
 */
export function institutionsWithFindingsCubeSql(filter: MetricFilter = {}, limit = 50): SqlQuery {
  checkLimit(limit, "机构数");
  checkFilter(filter);
  return sqlQuery`WITH g AS (
  SELECT institution_code AS code, sum(findings) AS findings, sum(amount_involved) AS amount_involved,
    list_sort(list_distinct(flatten(list(categories)))) AS categories,
    max(day) FILTER (WHERE findings > 0) AS last_day, sum(recovered) AS recovered
  FROM cube_institution_findings WHERE ${cellWhereSql(filter)}
  GROUP BY institution_code
  HAVING sum(findings) > 0
)
SELECT i.code, i.name, i.division_code AS county, i.kind, i.level, i.ownership,
  CAST(g.findings AS BIGINT) AS findings, CAST(g.amount_involved AS BIGINT) AS amount_involved,
  CAST(coalesce(g.recovered, 0) AS BIGINT) AS recovered,
  CASE WHEN len(g.categories) > 0 THEN array_to_string(g.categories, '、') END AS categories,
  strftime(g.last_day, '%Y-%m-%d') AS last_inspected
FROM g JOIN institutions AS i ON i.code = g.code
ORDER BY amount_involved DESC, i.code
LIMIT CAST(${limit} AS INTEGER)`;
}

/**
 * The `limit` institutions with the largest amount involved in their findings, from a database: each
 * with its county, kind, level, ownership, number of findings, amount involved, amount recovered
 * (追回 + 拒付 + 扣回), the categories found and the last inspection that found a problem.
 *
 * @param db - the page's `db` (or any {@link QueryDb})
 * @param options - which records and how many (default {})
 * @param options.filter - which records count (default {}: all)
 * @param options.limit - how many institutions, a positive integer (default 50)
 * @returns the institutions, most involved first (ties by code); money in fen
 * @example
 * ```ts
 * const [first] = await institutionsWithFindings(db, {filter: {within: "640104"}, limit: 30});
 * [first?.name, first?.kind, first?.findings, formatMoney(first?.amount_involved)]; // → ["兴庆同心卫生院52号", "基层医疗机构", 6, "15.66万元"]
 * first?.categories; // → "串换药品、低指征收住、分解住院、超标准收费、过度诊疗、重复收费"
 * ```
 */
export async function institutionsWithFindings(
  db: QueryDb,
  {filter = {}, limit = 50}: {filter?: MetricFilter; limit?: number} = {}
): Promise<InstitutionFindings[]> {
  // The SDK's choice: the cube's per-cell parts when the database has them (they cover every filter).
  const rows = await db.query(
    (await cubeOf(db))?.cases
      ? institutionsWithFindingsCubeSql(filter, limit)
      : institutionsWithFindingsSql(filter, limit)
  );
  return rows.map(institutionFindingsOf);
}

/**
 * The JS reference of {@link institutionsWithFindings}, written without reference to the SQL: the
 * same institutions, from plain data.
 *
 * @param data - the loader's tables as plain objects (institutions with name, level and ownership)
 * @param options - which records and how many (default {})
 * @param options.filter - which records count (default {}: all)
 * @param options.limit - how many institutions, a positive integer (default 50)
 * @returns the institutions, most involved first (ties by code)
 * @example
 * ```ts
 * const rows = institutionsWithFindingsReference(data, {limit: 3});
 * rows.map((r) => r.name); // → ["兴庆同心卫生院52号", "金凤安康诊所33号", "永宁济民大药房10号"]
 * await institutionsWithFindings(db, {limit: 3}); // → rows
 * ```
 */
export function institutionsWithFindingsReference(
  data: RecoveryData,
  {filter = {}, limit = 50}: {filter?: MetricFilter; limit?: number} = {}
): InstitutionFindings[] {
  checkLimit(limit, "机构数");
  const scoped = scopeData(data, filter);
  const inspections = new Map(scoped.inspections.map((s) => [s.id, s]));
  const found = new Map<string, {findings: number; amount: number; categories: Set<string>; last: string}>();
  for (const f of scoped.findings) {
    const s = inspections.get(f.inspection_id);
    if (!s) continue;
    const e = found.get(s.institution_code) ?? {
      findings: 0,
      amount: 0,
      categories: new Set<string>(),
      last: s.date
    };
    e.findings += 1;
    e.amount += f.amount_involved;
    e.categories.add(f.category);
    if (s.date > e.last) e.last = s.date;
    found.set(s.institution_code, e);
  }
  const recovered = new Map<string, number>();
  for (const r of recoveryRecords(data, filter))
    recovered.set(r.institution.code, (recovered.get(r.institution.code) ?? 0) + r.amount);
  const institutions = new Map(data.institutions.map((i) => [i.code, i]));
  return [...found.entries()]
    .flatMap(([code, e]) => {
      const i = institutions.get(code);
      if (!i) return [];
      return [
        {
          code,
          name: i.name,
          county: i.division_code,
          kind: i.kind,
          level: i.level,
          ownership: i.ownership,
          findings: e.findings,
          amount_involved: e.amount,
          recovered: recovered.get(code) ?? 0,
          categories: [...e.categories].sort(byCodePoint).join("、"),
          last_inspected: e.last
        }
      ];
    })
    .sort((a, b) => b.amount_involved - a.amount_involved || byCodePoint(a.code, b.code))
    .slice(0, limit);
}

/**
 * One row of {@link institutionsWithFindingsSql} or {@link institutionsWithFindingsCubeSql} as
 * {@link InstitutionFindings}.
 *
 * @param r - the row, as a database returns it
 * @returns the institution's findings
 */
export function institutionFindingsOf(r: Record<string, unknown>): InstitutionFindings {
  return {
    code: String(r.code),
    name: String(r.name),
    county: String(r.county),
    kind: String(r.kind),
    level: String(r.level),
    ownership: String(r.ownership),
    findings: Number(r.findings),
    amount_involved: Number(r.amount_involved),
    recovered: Number(r.recovered),
    categories: String(r.categories),
    last_inspected: String(r.last_inspected)
  };
}
