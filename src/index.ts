/**
 * Fundwatch SDK, browser entry. Report pages import from here (`./sdk/index.js` in `reports/`).
 * Named exports only, listed by hand.
 */
export {openDatabase, startDuckDB, QueryError, describeDuckDBError} from "./duckdb/client.js";
export type {FundwatchDatabase, DatabaseSource, SqlTag} from "./duckdb/client.js";
export type {Row} from "./duckdb/convert.js";
export {sqlQuery, ident, joinSql} from "./sql/template.js";
export type {SqlQuery, SqlValue, QueryDb} from "./sql/template.js";
export {formatMoney, fenToYuan, autoMoneyUnit} from "./format/money.js";
export type {MoneyUnit, FormatMoneyOptions} from "./format/money.js";
export {formatDate, formatDateTime} from "./format/date.js";
export {compareZh, formatCount, cleanText, displayText} from "./format/text.js";
export {formatPercent, formatMetricValue} from "./format/percent.js";
export type {FormatPercentOptions} from "./format/percent.js";
export {rankedBars} from "./charts/ranked-bars.js";
export {coverageProgress} from "./charts/coverage-progress.js";
export {
  loadMeta,
  loadDivisions,
  asOfStamp,
  printHeader,
  kpiCard,
  filterFromSearch,
  searchWithFilter,
  syncUrl,
  loadFilterChoices,
  filterBar,
  describeFilter
} from "./ui/page.js";
export type {DataMeta, PageFilter, FilterChoices, DivisionRow} from "./ui/page.js";
export {sortableTable} from "./ui/table.js";
export {textSpan} from "./ui/text.js";
export {dateField, parseDay} from "./ui/date-field.js";
export type {ParsedDay} from "./ui/date-field.js";
export type {TableColumn, SortableTableOptions} from "./ui/table.js";
export {
  METRICS,
  metricById,
  metricByDivision,
  metricQuery,
  metricSql,
  metricCubeSql,
  cubeCovers,
  metricReference,
  metricValue,
  scopeSql,
  scopeData,
  toMetricRows,
  loadCampaigns,
  pickCampaign,
  campaignsSql,
  coverageTargetAt,
  campaignPhases,
  phaseAt,
  fridaysBetween,
  fridayOf,
  DEFAULT_RULES,
  weeklyProgress,
  weeklyProgressSql,
  weeklyProgressReference,
  reconcileWeekly,
  reconcileSql,
  reconcileReference,
  RECONCILED_FIGURES,
  ROUNDING_FEN,
  rankDivisions,
  rankFromValues,
  DEFAULT_RANKING,
  MIN_WEIGHT_SHARE,
  BOTTOM_QUARTILE,
  sharesOf,
  roundedPercents,
  isWorkingDay,
  workingDaysBetween,
  calendarFromRows,
  loadCalendar,
  describeYears,
  RECOVERY_DIMENSIONS,
  NO_CATEGORY,
  recoveryBreakdown,
  recoveryBreakdownSql,
  recoveryBreakdownReference,
  largestCases,
  largestCasesSql,
  largestCasesReference,
  institutionsWithFindings,
  institutionsWithFindingsSql,
  institutionsWithFindingsReference,
  median,
  comparePeers
} from "./metrics/index.js";
export type {
  CalendarDay,
  WorkingCalendar,
  Metric,
  MetricData,
  MetricFilter,
  MetricParts,
  MetricRow,
  DivisionLevel,
  ByDivisionOptions,
  Campaign,
  CoverageTarget,
  Phase,
  ProgressOptions,
  ProgressRow,
  ReconcileRow,
  ReconcileStatus,
  ReconciledFigure,
  ReconcileData,
  RankingMetric,
  RankingInput,
  RankingRow,
  RankedMetric,
  RankingOptions,
  Ranking,
  MetricTarget,
  RecoveryDimension,
  RecoveryShare,
  RecoveryCase,
  RecoveryData,
  InstitutionFindings,
  PeerComparison
} from "./metrics/index.js";
export type {RankedBarsOptions} from "./charts/ranked-bars.js";
export type {CoverageProgressOptions} from "./charts/coverage-progress.js";

// The libraries pages use, from node_modules (never the CDN): importing them here defines
// `Plot`, `d3`, `Inputs` and `html` in the page, so Framework adds no implicit CDN import. `Plot` is
// Plot without the `<style>` elements the site's Content-Security-Policy refuses (charts/plot.ts).
export {Plot} from "./charts/plot.js";
export * as d3 from "d3";
export * as Inputs from "@observablehq/inputs";
export {html} from "htl";
