/**
 * The scope every metric runs in: the filter applied once, in SQL (bound parameters only) and,
 * independently, in JS for the reference implementations. Filters apply to the inspection (its date,
 * campaign and kind) and its institution (kind); findings and dispositions follow their inspection.
 */
import {joinSql, sqlQuery, type SqlQuery} from "../sql/template.js";
import type {DivisionLevel, MetricData, MetricFilter, ScopedData} from "./types.js";

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
/** A division code (as `DIVISION_CODE` in src/schema/dataset.ts): GB/T 2260, or 4 digits + 2 local (6401ND). */
const DIVISION_CODE = /^\d{4}[0-9A-Z]{2}$/;

/**
 * The keys a {@link MetricFilter} may have; any other is refused by {@link checkFilter}.
 *
 * @example
 * ```ts
 * FILTER_KEYS.includes("institutionKinds"); // → true
 * ```
 */
export const FILTER_KEYS = [
  "from",
  "to",
  "campaign",
  "institutionKinds",
  "inspectionKinds",
  "within"
] as const;

/** Names people type for a filter key: the page's URL parameters and near-synonyms. */
const KEY_ALIASES: Record<string, (typeof FILTER_KEYS)[number]> = {
  city: "within",
  county: "within",
  division: "within",
  kind: "institutionKinds",
  kinds: "institutionKinds",
  ikind: "inspectionKinds",
  start: "from",
  end: "to",
  campaignId: "campaign",
  campaign_id: "campaign"
};

/**
 * The levels of divisions: the province, its cities, their counties.
 *
 * @example
 * ```ts
 * DIVISION_LEVELS; // → ["省", "市", "县"]
 * ```
 */
export const DIVISION_LEVELS: readonly DivisionLevel[] = ["省", "市", "县"];

/** Names people type for a level. */
const LEVEL_ALIASES: Record<string, DivisionLevel> = {
  province: "省",
  省级: "省",
  自治区: "省",
  city: "市",
  市级: "市",
  地市: "市",
  地级: "市",
  county: "县",
  district: "县",
  县级: "县",
  区县: "县",
  县区: "县",
  区: "县"
};

/**
 * A value as an analyst would recognise it in an error message, with its kind in Chinese.
 *
 * @param value - any value
 * @returns the value and its kind
 * @example
 * ```ts
 * describeValue("医院"); // → "\"医院\"（文本）"
 * describeValue(640100); // → "640100（数字）"
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") return `"${value}"（文本）`;
  if (typeof value === "number" || typeof value === "bigint") return `${value}（数字）`;
  if (typeof value === "boolean") return `${value}（真假值）`;
  if (value instanceof Date)
    return `Date 对象 ${Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString()}`;
  if (Array.isArray(value)) return `数组 ${JSON.stringify(value)}`;
  if (value instanceof Set) return `Set ${JSON.stringify([...value])}`;
  try {
    return `${JSON.stringify(value)}（对象）`;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * The optimal string alignment distance: the fewest insertions, deletions, substitutions and swaps
 * of neighbours that turn `a` into `b`.
 *
 * @param a - one text
 * @param b - the other text
 * @returns the number of edits
 * @example
 * ```ts
 * editDistance("FORM", "FROM"); // → 1
 * editDistance("coverge", "coverage"); // → 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({length: b.length + 1}, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      let best = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, (before[j - 2] ?? 0) + 1);
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The closest of `names` to `name` (ignoring case) if it is a likely typo — at most a third of its
 * letters off (at least one) — else undefined.
 *
 * @param name - what was typed
 * @param names - the valid names
 * @returns the closest valid name, or undefined
 * @example
 * ```ts
 * closestName("coverge", ["coverage", "fines"]); // → "coverage"
 * closestName("xyz", ["coverage", "fines"]); // → undefined
 * ```
 */
export function closestName(name: string, names: readonly string[]): string | undefined {
  let best: {name: string; distance: number} | undefined;
  for (const candidate of names) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = {name: candidate, distance};
  }
  return best && best.distance <= Math.max(1, Math.floor(name.length / 3)) ? best.name : undefined;
}

/** Whether a YYYY-MM-DD text is a day of the calendar (not 2024-02-30). */
function isRealDay(text: string): boolean {
  const [y = 0, m = 0, d = 0] = text.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/**
 * Refuses a malformed filter with a Chinese message naming the key, the value given and what is
 * expected: a filter that is not an object, an unknown key (a typo such as `institutionKind`, with the
 * closest key), a date not `YYYY-MM-DD` text or not a day of the calendar, a kind list that is not an
 * array of texts (a bare `"医院"` instead of `["医院"]`) or is empty (it would match nothing), a campaign
 * that is not text, `within` not a six-character division code. A `from` after `to` is allowed: it
 * selects nothing. Every metric call checks its filter this way.
 *
 * @param filter - the filter to check
 * @returns nothing; throws a `TypeError` for a malformed filter
 * @example
 * ```ts
 * checkFilter({from: "2024-05-15", institutionKinds: ["医院"], within: "640100"}); // → undefined
 * let message = "";
 * try { checkFilter({institutionKinds: "医院"} as never); } catch (error) { message = (error as Error).message; }
 * message; // → "筛选条件 institutionKinds 应为数组，例如 [\"医院\"]；收到 \"医院\"（文本），请写成 [\"医院\"]"
 * ```
 */
export function checkFilter(filter: MetricFilter): void {
  if (filter === undefined) return;
  if (typeof filter !== "object" || filter === null || Array.isArray(filter))
    throw new TypeError(
      `筛选条件应为对象，例如 {from: "2024-05-15", institutionKinds: ["医院"]}；收到 ${describeValue(filter)}`
    );
  const known: readonly string[] = FILTER_KEYS;
  for (const key of Object.keys(filter)) {
    if (known.includes(key)) continue;
    const guess = KEY_ALIASES[key] ?? closestName(key, FILTER_KEYS);
    throw new TypeError(
      `筛选条件没有「${key}」这一项${guess ? `，您是不是要用「${guess}」？` : "。"}可用的筛选条件：${FILTER_KEYS.join("、")}`
    );
  }
  const given = filter as Record<string, unknown>;
  const omit = (key: string): string => `筛选条件 ${key} 为 null：不加限制时请省略该项`;
  for (const key of ["from", "to"] as const) {
    const value = given[key];
    if (value === undefined) continue;
    if (value === null) throw new TypeError(omit(key));
    if (typeof value !== "string" || !ISO_DAY.test(value)) {
      const hint =
        value instanceof Date && !Number.isNaN(value.getTime())
          ? `，请写成 "${value.toISOString().slice(0, 10)}"`
          : "";
      throw new TypeError(
        `筛选条件 ${key} 应为 YYYY-MM-DD 格式的日期文本，例如 "2024-05-15"；收到 ${describeValue(value)}${hint}`
      );
    }
    if (!isRealDay(value))
      throw new TypeError(`筛选条件 ${key} 的日期「${value}」不存在（月份应为 01–12，日期不超过当月天数）`);
  }
  for (const key of ["institutionKinds", "inspectionKinds"] as const) {
    const value = given[key];
    const example = key === "institutionKinds" ? "医院" : "专项检查";
    if (value === undefined) continue;
    if (value === null) throw new TypeError(omit(key));
    if (!Array.isArray(value)) {
      const hint =
        typeof value === "string"
          ? `，请写成 ${JSON.stringify(value.split(/[,，、]/).filter(Boolean))}`
          : value instanceof Set
            ? "，请写成数组：[...集合]"
            : "";
      throw new TypeError(
        `筛选条件 ${key} 应为数组，例如 ["${example}"]；收到 ${describeValue(value)}${hint}`
      );
    }
    if (value.length === 0) throw new TypeError(`筛选条件 ${key} 为空列表：不会有任何记录，请省略该条件`);
    value.forEach((item: unknown, i) => {
      if (typeof item !== "string")
        throw new TypeError(
          `筛选条件 ${key} 的第 ${i + 1} 项应为文本，例如 "${example}"；收到 ${describeValue(item)}`
        );
    });
  }
  const campaign = given.campaign;
  if (campaign === null) throw new TypeError(omit("campaign"));
  if (campaign !== undefined && typeof campaign !== "string")
    throw new TypeError(
      `筛选条件 campaign 应为一个专项行动编号（文本），例如 "ZX2024"；收到 ${describeValue(campaign)}`
    );
  const within = given.within;
  if (within === null) throw new TypeError(omit("within"));
  if (within !== undefined && (typeof within !== "string" || !DIVISION_CODE.test(within))) {
    const hint =
      typeof within === "number"
        ? `，请写成文本 "${within}"`
        : typeof within === "string" && /[\u4e00-\u9fff]/.test(within)
          ? "：请用区划编码，不是区划名称"
          : "";
    throw new TypeError(
      `筛选条件 within 应为 6 位区划编码（文本），例如 "640100"（银川市）；收到 ${describeValue(within)}${hint}`
    );
  }
}

/**
 * Refuses a level that is not one of {@link DIVISION_LEVELS}, in Chinese, suggesting the level meant
 * (`"city"` → `"市"`).
 *
 * @param level - the level to check
 * @returns nothing; throws a `RangeError` for an unknown level
 * @example
 * ```ts
 * checkLevel("市"); // → undefined
 * let message = "";
 * try { checkLevel("city" as never); } catch (error) { message = (error as Error).message; }
 * message; // → "层级 level 应为 \"省\"、\"市\" 或 \"县\"；收到 \"city\"（文本），您是不是要用「市」？"
 * ```
 */
export function checkLevel(level: DivisionLevel): void {
  if ((DIVISION_LEVELS as readonly unknown[]).includes(level)) return;
  const guess =
    typeof level === "string" ? (LEVEL_ALIASES[level] ?? LEVEL_ALIASES[level.toLowerCase()]) : undefined;
  throw new RangeError(
    `层级 level 应为 "省"、"市" 或 "县"；收到 ${describeValue(level)}${guess ? `，您是不是要用「${guess}」？` : ""}`
  );
}

/** The codes of a division and every division below it (a province's cities and counties). */
export function subtreeSql(within: string): SqlQuery {
  return sqlQuery`SELECT d.code FROM divisions AS d LEFT JOIN divisions AS p ON p.code = d.parent_code
    WHERE d.code = ${within} OR d.parent_code = ${within} OR p.parent_code = ${within}`;
}

/**
 * The condition a filter puts on the rows of a cube table keyed by cell (`county`, `institution_kind`,
 * `day`, `campaign_id`, `inspection_kind`): the same records {@link scopeSql} keeps, for the cube's
 * tables (src/metrics/cube.ts).
 *
 * @param filter - the filter
 * @param options.within - narrow by `within` too (default true; false where the groups do it)
 * @returns the condition, its values bound
 */
export function cellWhereSql(filter: MetricFilter, {within = true} = {}): SqlQuery {
  const where = [sqlQuery`TRUE`];
  if (within && filter.within !== undefined) where.push(sqlQuery`county IN (${subtreeSql(filter.within)})`);
  if (filter.institutionKinds) where.push(sqlQuery`institution_kind IN ${[...filter.institutionKinds]}`);
  if (filter.from !== undefined) where.push(sqlQuery`day >= CAST(${filter.from} AS DATE)`);
  if (filter.to !== undefined) where.push(sqlQuery`day <= CAST(${filter.to} AS DATE)`);
  if (filter.campaign !== undefined) where.push(sqlQuery`campaign_id = ${filter.campaign}`);
  if (filter.inspectionKinds) where.push(sqlQuery`inspection_kind IN ${[...filter.inspectionKinds]}`);
  return joinSql(where, " AND ");
}

/**
 * The `WITH` clause every metric's SQL starts with: `f_institutions`, `f_inspections`, `f_findings`
 * and `f_dispositions`, the loader's tables narrowed by the filter, each row tagged with its county
 * (`county`). The filter is checked first ({@link checkFilter}); its values are bound parameters.
 * The views are `MATERIALIZED`: DuckDB-WASM 1.4.3 (package 1.32.0, both bundles) returns 0 rows, with
 * no error, for a query that joins an inlined CTE holding a bound VARCHAR parameter to itself under
 * `ORDER BY … LIMIT` (e.g. `f_findings JOIN f_inspections … LIMIT 10` with a `within` filter), where
 * native DuckDB returns the rows; a materialized CTE is answered right. Reproduction and upstream
 * report: docs/upstream/duckdb-wasm-empty-top-n.md; test/unit/wasm-empty-top-n.test.ts pins both.
 *
 * @param filter - which records count (default {}: all)
 * @param options - where the rows come from (default {})
 * @param options.firstInspections - read inspections from the cube's `cube_first_inspections` (each
 *   institution's first inspection of each class, see src/metrics/cube.ts) with no findings or
 *   dispositions: weekly progress with a date (the distinct-institution metrics read the cube's
 *   `cube_institution_days`, built from it); refused with `from` or `inspectionKinds` (default false)
 * @returns the `WITH …` clause, to be followed by `, more AS (…) SELECT …`
 * @example
 * ```ts
 * const scope = scopeSql({from: "2024-05-15", institutionKinds: ["医院"]});
 * scope.params; // → ["医院", "2024-05-15"]
 * const [row] = await db.query(sqlQuery`${scope} SELECT count(*) AS n FROM f_inspections WHERE kind = ${"专项检查"}`);
 * typeof row?.n; // → "number"
 * ```
 */
export function scopeSql(filter: MetricFilter = {}, {firstInspections = false} = {}): SqlQuery {
  checkFilter(filter);
  if (firstInspections && (filter.from !== undefined || filter.inspectionKinds !== undefined))
    throw new RangeError("首次检查表不能按起始日期或检查方式筛选：请用明细表");
  const institutionWhere = [sqlQuery`TRUE`];
  if (filter.institutionKinds) institutionWhere.push(sqlQuery`kind IN ${[...filter.institutionKinds]}`);
  if (filter.within !== undefined)
    institutionWhere.push(sqlQuery`division_code IN (${subtreeSql(filter.within)})`);
  const inspectionWhere = [sqlQuery`TRUE`];
  if (filter.from !== undefined) inspectionWhere.push(sqlQuery`s.date >= CAST(${filter.from} AS DATE)`);
  if (filter.to !== undefined) inspectionWhere.push(sqlQuery`s.date <= CAST(${filter.to} AS DATE)`);
  if (filter.campaign !== undefined) inspectionWhere.push(sqlQuery`s.campaign_id = ${filter.campaign}`);
  if (filter.inspectionKinds) inspectionWhere.push(sqlQuery`s.kind IN ${[...filter.inspectionKinds]}`);
  return sqlQuery`WITH
f_institutions AS MATERIALIZED (
  SELECT code, division_code AS county, kind FROM institutions WHERE ${joinSql(institutionWhere, " AND ")}
),
f_inspections AS MATERIALIZED (
  SELECT s.*, i.county FROM ${firstInspections ? sqlQuery`cube_first_inspections` : sqlQuery`inspections`} AS s
  JOIN f_institutions AS i ON i.code = s.institution_code
  WHERE ${joinSql(inspectionWhere, " AND ")}
),
${
  firstInspections
    ? // Empty, and naming no record table: the small file (src/duckdb/split.ts) answers this alone.
      sqlQuery`f_findings AS MATERIALIZED (SELECT CAST(NULL AS VARCHAR) AS county WHERE FALSE),
f_dispositions AS MATERIALIZED (SELECT CAST(NULL AS VARCHAR) AS county WHERE FALSE)`
    : sqlQuery`f_findings AS MATERIALIZED (
  SELECT f.*, s.county FROM findings AS f JOIN f_inspections AS s ON s.id = f.inspection_id
),
f_dispositions AS MATERIALIZED (
  SELECT p.*, s.county FROM dispositions AS p
  LEFT JOIN findings AS f ON f.id = p.finding_id
  JOIN f_inspections AS s ON s.id = coalesce(f.inspection_id, p.inspection_id)
)`
}`;
}

/**
 * The same scope as {@link scopeSql} in plain JS, written without reference to the SQL, for the
 * reference implementations: the records the filter keeps, each tagged with its county. Campaigns
 * are never filtered.
 *
 * @param data - the loader's tables as plain objects
 * @param filter - which records count (default {}: all)
 * @returns the scoped records
 * @example
 * ```ts
 * const scoped = scopeData(data, {within: "640100", institutionKinds: ["医院"]});
 * scoped.institutions.every((i) => i.kind === "医院"); // → true
 * scoped.inspections.length <= data.inspections.length; // → true
 * ```
 */
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
  return {
    campaigns: data.campaigns,
    calendar: data.calendar,
    institutions,
    inspections,
    findings,
    dispositions
  };
}

/**
 * SQL mapping each county-level division to its group at `level` (`county`, `code`). With `within`,
 * only the counties in that division (a city's, a county itself) — so only the groups they fall in.
 */
export function groupsSql(level: DivisionLevel, within?: string): SqlQuery {
  checkLevel(level);
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
  checkLevel(level);
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
