/**
 * The metric model. Every metric is a sum of additive parts per county-level division — a numerator
 * and, for ratios, a denominator — so a city's or the province's value is the sum of its counties'
 * parts (never an average of ratios), and SQL and the JS reference can be compared exactly on
 * integers. Money parts are integer fen.
 */
import type {SqlQuery} from "../sql/template.js";
import type {CalendarDay} from "./calendar.js";

/** Which records a metric counts. Every field is optional; absent means no restriction. */
export interface MetricFilter {
  /** Inspection date on or after this day (YYYY-MM-DD). */
  from?: string;
  /** Inspection date on or before this day (YYYY-MM-DD). */
  to?: string;
  /** Only inspections of this campaign (行动编号). */
  campaign?: string;
  /** Only institutions of these kinds (医院, 基层医疗机构, 村卫生室, 诊所, 零售药店). */
  institutionKinds?: readonly string[];
  /** Only inspections of these kinds (专项检查, 飞行检查 …). */
  inspectionKinds?: readonly string[];
  /** Only institutions in this division or under it (a city's code: its counties). */
  within?: string;
}

export type DivisionLevel = "省" | "市" | "县";

/** Whether a metric is a total or a ratio, and of what. */
export type MetricMeasure = {kind: "total"} | {kind: "ratio"; numerator: string; denominator: string};

/** How the cube answers a metric: see {@link Metric.cube}. */
export type MetricCube = "cells" | "institutions";

/** One county's parts of a metric. */
export interface MetricParts {
  numerator: number;
  /** Null for a metric that is a plain total (an amount, a count). */
  denominator: number | null;
}

/** The rows a reference implementation reads: the loader's tables as plain objects. */
export interface MetricData {
  divisions: readonly {code: string; parent_code: string | null; level: string}[];
  /** The campaigns, for their rules (big-case threshold and time limit); never filtered. */
  campaigns: readonly {id: string; big_case_threshold: number; big_case_report_days: number}[];
  institutions: readonly {code: string; division_code: string; kind: string}[];
  inspections: readonly {
    id: string;
    institution_code: string;
    date: string;
    kind: string;
    campaign_id: string | null;
    problem_found: boolean;
    bills_reviewed: number | null;
    bills_rereviewed: number | null;
  }[];
  findings: readonly {
    id: string;
    inspection_id: string;
    category: string;
    amount_involved: number;
    fund_paid: number | null;
  }[];
  dispositions: readonly {
    id: string;
    finding_id: string | null;
    inspection_id: string | null;
    action: string;
    amount: number | null;
    decided_on: string;
    reported_on: string | null;
  }[];
  /** The working-day calendar's rows (the `calendar` table, from data/节假日.csv); never filtered. */
  calendar: readonly CalendarDay[];
}

/** {@link MetricData} narrowed by a {@link MetricFilter}, each record tagged with its county. */
export interface ScopedData {
  campaigns: MetricData["campaigns"];
  calendar: MetricData["calendar"];
  institutions: (MetricData["institutions"][number] & {county: string})[];
  inspections: (MetricData["inspections"][number] & {county: string})[];
  findings: (MetricData["findings"][number] & {county: string})[];
  dispositions: (MetricData["dispositions"][number] & {county: string})[];
}

export interface Metric {
  /** Stable identifier, e.g. `coverage`. */
  id: string;
  /** Chinese name shown on pages. */
  name: string;
  /**
   * What the value is, declared and never inferred from the unit. `total`: additive, a city's value
   * is the sum of its counties' numerators (the denominator is null). `ratio`: numerator ÷ denominator,
   * each summed over the counties before dividing (never an average of ratios), with what each counts
   * in Chinese. A ratio may have any unit: `%` for a share, `元` for an amount per institution.
   */
  measure: MetricMeasure;
  /**
   * How the build's cube can answer the metric (see src/metrics/cube.ts); absent: from the detail rows
   * only. `cells`: the parts are sums over records that each belong to one inspection (findings and
   * dispositions follow theirs), so they add up over inspection cells (county × institution kind × day
   * × campaign × inspection kind) and the cube answers any filter. `institutions`: the parts count
   * distinct institutions (and `f_institutions` rows) by whether they had an inspection, on site or
   * not, with a problem or not, on or before a day; the cube answers filters without `from` and
   * `inspectionKinds` from each institution's first inspection of each such class. The tests check
   * cube = detail rows = JS reference for every metric under generated filters.
   */
  cube?: MetricCube;
  /** How the value is shown: `元` for money (parts in fen), `%` for a share, `家`/`件` for counts. */
  unit: "元" | "%" | "家" | "件";
  /** Whether a higher value is better (coverage) or worse; `neutral` for plain totals. */
  direction: "higher" | "lower" | "neutral";
  /** What exactly is counted, in Chinese. */
  description: string;
  /**
   * SQL selecting `county, numerator, denominator` rows (several rows per county are summed) from
   * the scoped tables `f_institutions`, `f_inspections`, `f_findings`, `f_dispositions`, each with a
   * `county` column, and the unscoped `campaigns`.
   */
  parts: SqlQuery;
  /** Further common table expressions `parts` may use (without `WITH`), placed after the scope. */
  ctes?: SqlQuery;
  /** The same parts computed in plain JS, independently of the SQL. */
  reference(data: ScopedData): Map<string, MetricParts>;
}
