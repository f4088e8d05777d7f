/**
 * Baseline «arquero instead of DuckDB-WASM»: the overview's figures ({@link OverviewFigures}, the same
 * as `overviewFigures` in ../overview-figures.ts) computed with arquero verbs over tables loaded from
 * the Arrow IPC files `export-arrow.ts` writes.
 *
 * The data work is arquero: scoping by the filter (institution kinds, `within`, inspection date range,
 * campaign and kinds; findings and dispositions following their inspection), every metric's parts per
 * county, rolling counties up to city or province, weekly cumulative coverage and the big-case working
 * days (over the `calendar` table's holidays and weekend working days). What is reused from the SDK is
 * composition only: choosing the campaign (`pickCampaign`), its schedule (`coverageTargetAt`,
 * `fridaysBetween`), the metric definitions' metadata (`metricById`, `metricValue`) and the ranking from
 * values (`rankFromValues`).
 *
 * Arrow columns (see export-arrow.ts): money is Int64 fen, which arquero (flechette) reads as JS
 * numbers and refuses beyond 2^53, so sums are exact integers; dates are `YYYY-MM-DD` strings.
 *
 * Every expression passed to arquero is parsed from its source text: it may use only its row `d`,
 * params `$` and `op`, never a variable of this module.
 */
import {tableFromIPC} from "@uwdata/flechette";
import type * as Aq from "arquero";
import type {Struct} from "arquero/dist/types/table/types.js";
// arquero's package entry also exports its file readers, which import `node:fs`; Framework bundles node
// imports without the package's "browser" field (it keeps that import), and the page fails to load it.
// So the two modules used are imported alone (arquero ships types for its entry only: typed from it).
// @ts-expect-error -- no declaration file for arquero's source modules; typed below.
import {table as untypedTable} from "arquero/src/table/index.js";
// @ts-expect-error -- no declaration file for arquero's source modules; typed below.
import {opApi} from "arquero/src/op/op-api.js";
import {
  DEFAULT_RULES,
  fridaysBetween,
  pickCampaign,
  toCampaign,
  type Campaign
} from "../../src/metrics/campaign.js";
import {metricById, metricValue} from "../../src/metrics/index.js";
import {NOT_ON_SITE, PENALTY, REFERRAL} from "../../src/metrics/parts.js";
import {DEFAULT_RANKING, rankFromValues, rankingTargets} from "../../src/metrics/ranking.js";
import {checkFilter} from "../../src/metrics/scope.js";
import type {DivisionLevel} from "../../src/metrics/types.js";
import {RECOVERY_ACTIONS} from "../../src/schema/actions.js";
import {compareZh} from "../../src/format/text.js";
import type {DataMeta, FilterChoices, PageFilter} from "../../src/ui/page.js";
import {KPI_METRICS, type OverviewFigures, type Parts} from "../overview-figures.js";

const aq = {table: untypedTable as typeof Aq.table};
const op = opApi as typeof Aq.op;
type Table = Aq.ColumnTable;

/** `table.params(values)`: the table, with `values` as the `$` of its expressions. */
const given = (table: Table, values: Record<string, unknown>): Table => table.params(values) as Table;

/** The tables (and files `<name>.arrow`) the overview's logic reads. */
export const ARQUERO_TABLES = [
  "divisions",
  "campaigns",
  "institutions",
  "inspections",
  "findings",
  "dispositions",
  "calendar",
  "meta"
] as const;
export type ArqueroTableName = (typeof ARQUERO_TABLES)[number];
export type ArqueroTables = Record<ArqueroTableName, Table>;

/**
 * An arquero table over Arrow IPC bytes, as `aq.fromArrow` makes it but without importing arquero's
 * entry (see above): flechette (arquero's own Arrow reader) decodes the file and its columns back the
 * table. The one difference: a dictionary column gives its decoded values, without the key index
 * `aq.fromArrow` adds (the values are the same; the unit test compares both).
 */
export function fromArrow(bytes: Uint8Array): Table {
  const arrow = tableFromIPC(bytes, {useDate: true});
  return aq.table(Object.fromEntries(arrow.schema.fields.map((f) => [f.name, arrow.getChild(f.name)])));
}

/**
 * Loads the tables from Arrow IPC bytes: `fetchBytes("inspections")` returns the bytes of
 * `inspections.arrow` (in a page, from a FileAttachment).
 */
export async function loadArqueroTables(
  fetchBytes: (name: ArqueroTableName) => Promise<Uint8Array>
): Promise<ArqueroTables> {
  const entries = await Promise.all(
    ARQUERO_TABLES.map(async (name) => [name, fromArrow(await fetchBytes(name))] as const)
  );
  return Object.fromEntries(entries) as ArqueroTables;
}

/** Every metric the overview reads: the KPIs and the ranking's. */
type MetricId =
  (typeof KPI_METRICS)[number] | "problem_rate" | "recovery_ratio" | "rereview_ratio" | "big_case_timeliness";

const INSPECTION_COLUMNS = [
  "id",
  "institution_code",
  "date",
  "kind",
  "campaign_id",
  "problem_found",
  "bills_reviewed",
  "bills_rereviewed"
];

/** A one-column table of values, to semijoin or antijoin with. */
const values = (name: string, list: readonly string[]): Table => aq.table({[name]: [...list]});

/** The scoped records, each tagged with its county (the institution's division). */
interface Scoped {
  /** code, county, kind */
  institutions: Table;
  /** id, institution_code, date, kind, campaign_id, problem_found, bills_reviewed, bills_rereviewed, county */
  inspections: Table;
  /** id, amount_involved, county, campaign_id (of its inspection) */
  findings: Table;
  /** finding_id, action, amount, decided_on, reported_on, county */
  dispositions: Table;
}

/** Divisions with their grandparent (`grandparent`): county → city → province. */
function withGrandparent(t: ArqueroTables): Table {
  return t.divisions
    .select("code", "name", "parent_code", "level")
    .lookup(
      t.divisions.select({code: "up_code", parent_code: "grandparent"}),
      ["parent_code", "up_code"],
      ["grandparent"]
    );
}

/** The filter applied as the SDK's scope does (see src/metrics/scope.ts), with arquero verbs. */
function scope(t: ArqueroTables, filter: PageFilter): Scoped {
  checkFilter(filter);
  let institutions = t.institutions.select("code", "kind", {division_code: "county"});
  if (filter.institutionKinds)
    institutions = institutions.semijoin(values("kind", filter.institutionKinds), "kind");
  if (filter.within !== undefined) {
    const inside = given(withGrandparent(t), {within: filter.within}).filter(
      (d, $) => d.code === $.within || d.parent_code === $.within || d.grandparent === $.within
    );
    institutions = institutions.semijoin(inside, ["county", "code"]);
  }
  const joined = t.inspections.join(
    institutions.select({code: "i_code", county: "county"}),
    ["institution_code", "i_code"],
    [INSPECTION_COLUMNS, ["county"]]
  );
  let inspections = given(joined, {
    from: filter.from ?? null,
    to: filter.to ?? null,
    campaign: filter.campaign ?? null
  }).filter(
    (d, $) =>
      ($.from === null || d.date >= $.from) &&
      ($.to === null || d.date <= $.to) &&
      ($.campaign === null || d.campaign_id === $.campaign)
  );
  if (filter.inspectionKinds)
    inspections = inspections.semijoin(values("kind", filter.inspectionKinds), "kind");
  const byInspection = inspections.select({id: "s_id", county: "county", campaign_id: "campaign_id"});
  const findings = t.findings.join(
    byInspection,
    ["inspection_id", "s_id"],
    [
      ["id", "amount_involved"],
      ["county", "campaign_id"]
    ]
  );
  // A disposition belongs to its finding's inspection, or (with no finding) to its own inspection.
  const dispositions = t.dispositions
    .select("finding_id", "inspection_id", "action", "amount", "decided_on", "reported_on")
    .lookup(
      t.findings.select({id: "f_id", inspection_id: "f_inspection"}),
      ["finding_id", "f_id"],
      ["f_inspection"]
    )
    .derive({via: (d) => d.f_inspection ?? d.inspection_id})
    .join(
      byInspection,
      ["via", "s_id"],
      [["finding_id", "action", "amount", "decided_on", "reported_on"], ["county"]]
    );
  return {institutions, inspections, findings, dispositions};
}

/** (county, numerator, denominator) rows; several rows per county add up. */
function countyParts(t: ArqueroTables, s: Scoped): Record<MetricId, Table> {
  const recovered = s.dispositions
    .semijoin(values("action", RECOVERY_ACTIONS), "action")
    .groupby("county")
    .rollup({numerator: (d) => op.sum(d.amount), denominator: () => 0});
  const count = (actions: readonly string[]): Table =>
    s.dispositions
      .semijoin(values("action", actions), "action")
      .groupby("county")
      .rollup({numerator: () => op.count(), denominator: () => 0});
  const onSite = s.inspections.antijoin(values("kind", NOT_ON_SITE), "kind");
  return {
    coverage: s.institutions
      .groupby("county")
      .rollup({numerator: () => 0, denominator: () => op.count()})
      .concat(
        onSite
          .groupby("county")
          .rollup({numerator: (d) => op.distinct(d.institution_code), denominator: () => 0})
      ),
    findings: s.findings.groupby("county").rollup({numerator: () => op.count(), denominator: () => 0}),
    recovery_total: recovered,
    fines: s.dispositions
      .filter((d) => d.action === "罚款")
      .groupby("county")
      .rollup({numerator: (d) => op.sum(d.amount), denominator: () => 0}),
    penalties: count(PENALTY),
    referrals: count(REFERRAL),
    problem_rate: s.inspections
      .groupby("county")
      .rollup({numerator: (d) => op.sum(d.problem_found ? 1 : 0), denominator: () => op.count()}),
    recovery_ratio: recovered.concat(
      s.findings.groupby("county").rollup({numerator: () => 0, denominator: (d) => op.sum(d.amount_involved)})
    ),
    rereview_ratio: s.inspections
      .filter((d) => d.bills_reviewed != null && d.bills_rereviewed != null)
      .groupby("county")
      .rollup({numerator: (d) => op.sum(d.bills_rereviewed), denominator: (d) => op.sum(d.bills_reviewed)}),
    big_case_timeliness: bigCaseParts(t, s)
  };
}

interface WorkingDays {
  table: Table;
  first: string;
  last: string;
  total: number;
}
const workingDaysOf = new WeakMap<Table, WorkingDays>();

/**
 * Every day of the calendar's years (the `calendar` table: days off 休, weekend working days 班, and
 * the years it covers) with `ord`, the number of working days up to and including it: the working days
 * d with a < d ≤ b are ord(b) − ord(a).
 */
function calendar(t: ArqueroTables): WorkingDays {
  const known = workingDaysOf.get(t.calendar);
  if (known) return known;
  const rows = t.calendar.objects() as {day: string; kind: string; year: number}[];
  const years = rows.map((r) => Number(r.year));
  const first = `${Math.min(...years)}-01-01`;
  const last = `${Math.max(...years)}-12-31`;
  const days: string[] = [];
  for (let ms = Date.parse(`${first}T00:00:00Z`); ms <= Date.parse(`${last}T00:00:00Z`); ms += 86_400_000)
    days.push(new Date(ms).toISOString().slice(0, 10));
  const calendarDays = given(aq.table({day: days}), {
    holidays: rows.filter((r) => r.kind === "休").map((r) => r.day),
    workdays: rows.filter((r) => r.kind === "班").map((r) => r.day)
  }).derive({
    working: (d, $) =>
      (op.utcdayofweek(d.day) % 6 !== 0 && !op.includes($.holidays, d.day)) || op.includes($.workdays, d.day)
  });
  // Number the working days, then carry each number forward over the days off that follow it.
  const workingDays = calendarDays
    .filter((d) => d.working)
    .orderby("day")
    .derive({ord: () => op.row_number()});
  const table = calendarDays
    .join_left(workingDays, "day", [["day"], ["ord"]])
    .orderby("day")
    .derive({ord: (d) => op.fill_down(d.ord, 0)});
  const total = Number(table.rollup({n: (d) => op.max(d.ord)}).get("n", 0) ?? 0);
  const result = {table, first, last, total};
  workingDaysOf.set(t.calendar, result);
  return result;
}

/**
 * 大案及时上报率: findings at or above their campaign's big-case threshold (the default rules with no
 * campaign), decided (earliest decision) and reported (earliest report) within the campaign's working days.
 */
function bigCaseParts(t: ArqueroTables, s: Scoped): Table {
  const cal = calendar(t);
  const rules = t.campaigns.select({
    id: "c_id",
    big_case_threshold: "threshold",
    big_case_report_days: "days"
  });
  const cases = given(s.findings.lookup(rules, ["campaign_id", "c_id"], ["threshold", "days"]), {
    fen: DEFAULT_RULES.bigCaseFen,
    days: DEFAULT_RULES.bigCaseDays
  })
    .derive({threshold: (d, $) => d.threshold ?? $.fen, days: (d, $) => d.days ?? $.days})
    .filter((d) => d.amount_involved >= d.threshold)
    .select("id", "county", "days")
    .join(s.dispositions.select("finding_id", "decided_on", "reported_on"), ["id", "finding_id"])
    .groupby("id", "county", "days")
    .rollup({decided: (d) => op.min(d.decided_on), reported: (d) => op.min(d.reported_on)});
  const ordinals = cases
    .lookup(cal.table.select({day: "decided", ord: "ord_decided"}), "decided", ["ord_decided"])
    .lookup(cal.table.select({day: "reported", ord: "ord_reported"}), "reported", ["ord_reported"]);
  return given(ordinals, {first: cal.first, last: cal.last, total: cal.total})
    .derive({
      from: (d, $) => (d.decided < $.first ? 0 : d.decided > $.last ? $.total : d.ord_decided),
      to: (d, $) => (d.reported < $.first ? 0 : d.reported > $.last ? $.total : d.ord_reported)
    })
    .derive({timely: (d) => (d.reported != null && op.greatest(0, d.to - d.from) <= d.days ? 1 : 0)})
    .groupby("county")
    .rollup({numerator: (d) => op.sum(d.timely), denominator: () => op.count()});
}

/**
 * Each county-level division's group at `level` (county, code), only those in `within` (as the SDK's
 * `groupsSql`).
 */
function groups(t: ArqueroTables, level: DivisionLevel, within: string | undefined): Table {
  return given(
    withGrandparent(t).filter((d) => d.level === "县"),
    {level, within: within ?? null}
  )
    .filter(
      (d, $) =>
        $.within === null || d.code === $.within || d.parent_code === $.within || d.grandparent === $.within
    )
    .derive({
      group: (d, $) => ($.level === "县" ? d.code : $.level === "市" ? d.parent_code : d.grandparent)
    })
    .filter((d) => d.group != null)
    .select({code: "county", group: "code"});
}

interface Row extends Parts {
  code: string;
}

/** A metric by division: the counties' parts summed per group, every group listed, in code order. */
function byDivision(parts: Table, ratio: boolean, g: Table): Row[] {
  const rows = g
    .join_left(parts, "county", [["code"], ["numerator", "denominator"]])
    .groupby("code")
    .rollup({numerator: (d) => op.sum(d.numerator), denominator: (d) => op.sum(d.denominator)})
    .derive({numerator: (d) => d.numerator ?? 0, denominator: (d) => d.denominator ?? 0})
    .orderby("code")
    .objects() as {code: string; numerator: number; denominator: number}[];
  return rows.map((r) => {
    const p = {numerator: r.numerator, denominator: ratio ? r.denominator : null};
    return {code: r.code, ...p, value: metricValue(p)};
  });
}

/** Weekly cumulative coverage by division at `level`: the SDK's `weeklyProgress`, coverage only. */
function weeklyCoverage(
  t: ArqueroTables,
  s: Scoped,
  level: DivisionLevel,
  within: string | undefined,
  fridays: readonly string[]
): OverviewFigures["progress"] {
  if (fridays.length === 0) return [];
  const g = groups(t, level, within);
  const weeks = aq.table({week_ending: [...fridays]});
  const institutions = g
    .join_left(s.institutions.groupby("county").count({as: "n"}), "county", [["code"], ["n"]])
    .groupby("code")
    .rollup({institutions: (d) => op.sum(d.n)})
    .derive({institutions: (d) => d.institutions ?? 0});
  // Each institution counts from the Friday of its first on-site inspection (the day itself if a Friday).
  const firstVisits = s.inspections
    .antijoin(values("kind", NOT_ON_SITE), "kind")
    .groupby("county", "institution_code")
    .rollup({day: (d) => op.min(d.date)})
    .derive({
      friday: (d) =>
        op.slice(
          op.format_utcdate(op.timestamp(d.day) + ((12 - op.utcdayofweek(d.day)) % 7) * 86_400_000),
          0,
          10
        )
    })
    .groupby("county", "friday")
    .count({as: "n"});
  const inspected = g
    .join(firstVisits, "county", [["code"], ["friday", "n"]])
    .groupby("code", "friday")
    .rollup({n: (d) => op.sum(d.n)})
    .join(weeks, (a: Struct, b: Struct) => a.friday <= b.week_ending, [["code", "n"], ["week_ending"]])
    .groupby("code", "week_ending")
    .rollup({inspected: (d) => op.sum(d.n)});
  return institutions
    .cross(weeks)
    .join_left(inspected, [
      ["code", "week_ending"],
      ["code", "week_ending"]
    ])
    .derive({
      coverage: (d) => (d.institutions === 0 ? null : (d.inspected ?? 0) / d.institutions)
    })
    .orderby("code", "week_ending")
    .select("code", "week_ending", "coverage")
    .objects() as OverviewFigures["progress"];
}

/** The data's as-of date, source and build time (the `meta` table; as `loadMeta`). */
export function metaArquero(t: ArqueroTables): DataMeta {
  const get = (key: string): string =>
    String(
      given(t.meta, {key})
        .filter((d, $) => d.key === $.key)
        .rollup({value: (d) => op.max(d.value)})
        .get("value", 0) ?? ""
    );
  return {asOf: get("as_of"), source: get("source"), generatedAt: get("generated_at")};
}

/** The campaigns in start order (as `loadCampaigns`). */
export function campaignsArquero(t: ArqueroTables): Campaign[] {
  return (t.campaigns.orderby("start_date", "id").objects() as Record<string, unknown>[]).map(toCampaign);
}

/** Every division (code, name, level, parent_code) in code order, for names and links. */
export function divisionsArquero(
  t: ArqueroTables
): {code: string; name: string; level: string; parent_code: string | null}[] {
  return (
    t.divisions.select("code", "name", "level", "parent_code").orderby("code").objects() as {
      code: string;
      name: string;
      level: string;
      parent_code: string | null | undefined;
    }[]
  ).map((d) => ({...d, parent_code: d.parent_code ?? null}));
}

/** The filter bar's choices from the tables (as `loadFilterChoices`). */
export function filterChoicesArquero(t: ArqueroTables): FilterChoices {
  const kinds = (table: Table): string[] =>
    (table.dedupe("kind").array("kind") as unknown[]).map((k) => String(k)).sort(compareZh);
  const days = t.inspections.rollup({first: (d) => op.min(d.date), last: (d) => op.max(d.date)});
  const day = (key: string): string | null => {
    const value = days.get(key, 0) as unknown;
    return value == null ? null : String(value);
  };
  return {
    campaigns: t.campaigns.orderby("start_date", "id").select("id", "name").objects() as {
      id: string;
      name: string;
    }[],
    institutionKinds: kinds(t.institutions),
    inspectionKinds: kinds(t.inspections),
    cities: t.divisions
      .filter((d) => d.level === "市")
      .orderby("code")
      .select("code", "name")
      .objects() as {code: string; name: string}[],
    firstDay: day("first"),
    lastDay: day("last")
  };
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The overview's figures for one filter, computed with arquero: the same as `overviewFigures`. */
export function overviewArquero(t: ArqueroTables, filter: PageFilter = {}): OverviewFigures {
  const meta = metaArquero(t);
  const campaigns = campaignsArquero(t);
  const campaign = campaigns.length ? pickCampaign(campaigns, {id: filter.campaign, asOf: meta.asOf}) : null;
  const within = filter.within;
  const scopeLevel: DivisionLevel = within ? "市" : "省";
  const province = t.divisions
    .filter((d) => d.level === "省")
    .orderby("code")
    .array("code")[0] as string | undefined;
  const scopeCode = within ?? province ?? "";

  const scoped = scope(t, filter);
  const parts = countyParts(t, scoped);
  const isRatio = (id: string): boolean => metricById(id).measure.kind === "ratio";
  const groupsAt = new Map<DivisionLevel, Table>();
  const groupsOf = (level: DivisionLevel): Table => {
    const g = groupsAt.get(level) ?? groups(t, level, within);
    groupsAt.set(level, g);
    return g;
  };
  const rowsOf = (id: MetricId, level: DivisionLevel): Row[] =>
    byDivision(parts[id], isRatio(id), groupsOf(level));

  const kpi = Object.fromEntries(
    KPI_METRICS.map((id) => {
      const row = rowsOf(id, scopeLevel).find((r) => r.code === scopeCode);
      return [id, row ? {numerator: row.numerator, denominator: row.denominator, value: row.value} : null];
    })
  ) as OverviewFigures["kpi"];

  const fridays = campaign ? fridaysBetween(campaign.start_date, meta.asOf) : [];
  const progress = [
    ...weeklyCoverage(t, scoped, scopeLevel, within, fridays).filter((r) => r.code === scopeCode),
    ...(within || !campaign ? [] : weeklyCoverage(t, scoped, "市", within, fridays))
  ].sort((a, b) => compare(a.code, b.code) || compare(a.week_ending, b.week_ending));

  const recovery = rowsOf("recovery_total", within ? "县" : "市")
    .map((r) => ({code: r.code, numerator: r.numerator}))
    .sort((a, b) => compare(a.code, b.code));

  // The ranking: rankDivisions' inputs (default metrics, the campaign's targets), values from arquero.
  const metrics = DEFAULT_RANKING.map((m) => {
    const metric = metricById(m.id);
    const direction = m.direction ?? (metric.direction === "neutral" ? undefined : metric.direction);
    if (direction === undefined) throw new RangeError(`指标「${metric.name}」没有好坏方向`);
    return {metric, weight: m.weight ?? 1, direction};
  });
  const peers = given(
    withGrandparent(t).filter((d) => d.level === "县"),
    {within: within ?? null}
  )
    .filter((d, $) => $.within === null || d.parent_code === $.within || d.grandparent === $.within)
    .orderby("code")
    .select("code", "name")
    .objects() as {code: string; name: string}[];
  const valuesById = new Map<string, Map<string, number | null>>();
  for (const id of new Set<MetricId>([...metrics.map((m) => m.metric.id as MetricId), "coverage"]))
    valuesById.set(id, new Map(rowsOf(id, "县").map((r) => [r.code, r.value])));
  const asOfRows = t.meta.filter((d) => d.key === "as_of").rollup({v: (d) => op.max(d.value)});
  const asOf = String(asOfRows.get("v", 0) ?? new Date().toISOString().slice(0, 10));
  const rankingCampaign = campaigns.length ? pickCampaign(campaigns, {id: filter.campaign, asOf}) : null;
  const {targets, coverage} = rankingTargets(rankingCampaign, asOf, valuesById.get("coverage") ?? new Map());
  const ranking = rankFromValues({
    divisions: peers,
    metrics,
    values: valuesById,
    targets,
    ...(coverage ? {coverage} : {})
  });

  return {
    scope: scopeCode,
    asOf: meta.asOf,
    kpi,
    progress,
    recovery,
    ranking: ranking
      .map((r) => ({code: r.code, rank: r.rank, score: r.score, lagging: r.lagging}))
      .sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || compare(a.code, b.code))
  };
}
