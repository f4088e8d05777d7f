/**
 * The scope every metric runs in: the filter applied once, in SQL (bound parameters only) and,
 * independently, in JS for the reference implementations. Filters apply to the inspection (its date,
 * campaign and kind) and its institution (kind); findings and dispositions follow their inspection.
 */
import {joinSql, sqlQuery, type SqlQuery} from "../sql/template.js";
import type {DivisionLevel, MetricData, MetricFilter, ScopedData} from "./types.js";

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Refuses a malformed filter: a date not YYYY-MM-DD, or an empty kind list (it would match nothing). */
export function checkFilter(filter: MetricFilter): void {
  for (const key of ["from", "to"] as const) {
    const value = filter[key];
    if (value !== undefined && !ISO_DAY.test(value))
      throw new TypeError(`筛选条件 ${key} 应为 YYYY-MM-DD 格式的日期：${value}`);
  }
  for (const key of ["institutionKinds", "inspectionKinds"] as const) {
    if (filter[key]?.length === 0)
      throw new TypeError(`筛选条件 ${key} 为空列表：不会有任何记录，请省略该条件`);
  }
}

/** The `WITH` clause defining f_institutions, f_inspections, f_findings and f_dispositions. */
export function scopeSql(filter: MetricFilter = {}): SqlQuery {
  checkFilter(filter);
  const institutionWhere = [sqlQuery`TRUE`];
  if (filter.institutionKinds) institutionWhere.push(sqlQuery`kind IN ${[...filter.institutionKinds]}`);
  if (filter.within !== undefined)
    institutionWhere.push(sqlQuery`division_code IN (
    SELECT d.code FROM divisions AS d LEFT JOIN divisions AS p ON p.code = d.parent_code
    WHERE d.code = ${filter.within} OR d.parent_code = ${filter.within} OR p.parent_code = ${filter.within})`);
  const inspectionWhere = [sqlQuery`TRUE`];
  if (filter.from !== undefined) inspectionWhere.push(sqlQuery`s.date >= CAST(${filter.from} AS DATE)`);
  if (filter.to !== undefined) inspectionWhere.push(sqlQuery`s.date <= CAST(${filter.to} AS DATE)`);
  if (filter.campaign !== undefined) inspectionWhere.push(sqlQuery`s.campaign_id = ${filter.campaign}`);
  if (filter.inspectionKinds) inspectionWhere.push(sqlQuery`s.kind IN ${[...filter.inspectionKinds]}`);
  return sqlQuery`WITH
f_institutions AS (
  SELECT code, division_code AS county, kind FROM institutions WHERE ${joinSql(institutionWhere, " AND ")}
),
f_inspections AS (
  SELECT s.*, i.county FROM inspections AS s JOIN f_institutions AS i ON i.code = s.institution_code
  WHERE ${joinSql(inspectionWhere, " AND ")}
),
f_findings AS (
  SELECT f.*, s.county FROM findings AS f JOIN f_inspections AS s ON s.id = f.inspection_id
),
f_dispositions AS (
  SELECT p.*, s.county FROM dispositions AS p
  LEFT JOIN findings AS f ON f.id = p.finding_id
  JOIN f_inspections AS s ON s.id = coalesce(f.inspection_id, p.inspection_id)
)`;
}

/** The same scope in JS, written without reference to the SQL. */
export function scopeData(data: MetricData, filter: MetricFilter = {}): ScopedData {
  checkFilter(filter);
  const institutionKinds = filter.institutionKinds ? new Set(filter.institutionKinds) : undefined;
  const inspectionKinds = filter.inspectionKinds ? new Set(filter.inspectionKinds) : undefined;
  const parent = new Map(data.divisions.map((d) => [d.code, d.parent_code]));
  const inside = (county: string): boolean => {
    if (filter.within === undefined) return true;
    for (let c: string | null | undefined = county, n = 0; c != null && n < 3; c = parent.get(c), n += 1)
      if (c === filter.within) return true;
    return false;
  };
  const institutions = data.institutions
    .filter((i) => (!institutionKinds || institutionKinds.has(i.kind)) && inside(i.division_code))
    .map((i) => ({...i, county: i.division_code}));
  const countyOfInstitution = new Map(institutions.map((i) => [i.code, i.county]));
  const inspections = data.inspections.flatMap((s) => {
    const county = countyOfInstitution.get(s.institution_code);
    if (county === undefined) return [];
    if (filter.from !== undefined && s.date < filter.from) return [];
    if (filter.to !== undefined && s.date > filter.to) return [];
    if (filter.campaign !== undefined && s.campaign_id !== filter.campaign) return [];
    if (inspectionKinds && !inspectionKinds.has(s.kind)) return [];
    return [{...s, county}];
  });
  const countyOfInspection = new Map(inspections.map((s) => [s.id, s.county]));
  const findings = data.findings.flatMap((f) => {
    const county = countyOfInspection.get(f.inspection_id);
    return county === undefined ? [] : [{...f, county}];
  });
  const inspectionOfFinding = new Map(data.findings.map((f) => [f.id, f.inspection_id]));
  const dispositions = data.dispositions.flatMap((p) => {
    const inspection =
      (p.finding_id === null ? undefined : inspectionOfFinding.get(p.finding_id)) ?? p.inspection_id;
    const county = inspection === null ? undefined : countyOfInspection.get(inspection);
    return county === undefined ? [] : [{...p, county}];
  });
  return {campaigns: data.campaigns, institutions, inspections, findings, dispositions};
}

/**
 * SQL mapping each county-level division to its group at `level` (`county`, `code`). With `within`,
 * only the counties in that division (a city's, a county itself) — so only the groups they fall in.
 */
export function groupsSql(level: DivisionLevel, within?: string): SqlQuery {
  const inside =
    within === undefined
      ? sqlQuery``
      : sqlQuery` AND (d.code = ${within} OR d.parent_code = ${within} OR c.parent_code = ${within})`;
  return sqlQuery`SELECT d.code AS county,
    CASE ${level} WHEN '县' THEN d.code WHEN '市' THEN d.parent_code ELSE c.parent_code END AS code
  FROM divisions AS d LEFT JOIN divisions AS c ON c.code = d.parent_code
  WHERE d.level = '县'${inside}`;
}

/** The same mapping in JS. */
export function groupsOf(
  data: MetricData,
  level: DivisionLevel,
  within?: string
): Map<string, string | null> {
  const parent = new Map(data.divisions.map((d) => [d.code, d.parent_code]));
  const groups = new Map<string, string | null>();
  for (const d of data.divisions) {
    if (d.level !== "县") continue;
    const city = d.parent_code;
    const province = parent.get(city ?? "") ?? null;
    if (within !== undefined && d.code !== within && city !== within && province !== within) continue;
    groups.set(d.code, level === "县" ? d.code : level === "市" ? city : province);
  }
  return groups;
}
