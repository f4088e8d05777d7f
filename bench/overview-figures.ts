/**
 * The overview page's logic (reports/index.md) as one function over any `db`: the figures it shows
 * for one filter. The benchmark runs it on native DuckDB (the compute limit) and writes its results as
 * the precomputed-JSON baseline; the arquero baseline must return the same figures.
 */
import {
  loadCampaigns,
  metricByDivision,
  pickCampaign,
  rankDivisions,
  weeklyProgress
} from "../src/metrics/index.js";
import {loadDivisions, loadMeta, type PageFilter} from "../src/ui/page.js";
import type {QueryDb} from "../src/sql/template.js";

/** The six KPI cards' metrics, in the overview's order. */
export const KPI_METRICS = [
  "coverage",
  "findings",
  "recovery_total",
  "fines",
  "penalties",
  "referrals"
] as const;

export interface Parts {
  numerator: number;
  denominator: number | null;
  value: number | null;
}

export interface OverviewFigures {
  /** The scope: the province's code, or the chosen city's (`filter.within`). */
  scope: string;
  asOf: string;
  /** Each KPI metric's parts for the scope (null when the scope has no row). */
  kpi: Record<(typeof KPI_METRICS)[number], Parts | null>;
  /** Weekly coverage, sorted by code then week: the scope, then (unfiltered only) each city. */
  progress: {code: string; week_ending: string; coverage: number | null}[];
  /** Recovery (追回+拒付+扣回, fen) by city, or by county within a city, sorted by code. */
  recovery: {code: string; numerator: number}[];
  /** The county ranking, sorted by rank then code. */
  ranking: {code: string; rank: number | null; score: number | null; lagging: boolean}[];
}

export async function overviewFigures(db: QueryDb, filter: PageFilter = {}): Promise<OverviewFigures> {
  const meta = await loadMeta(db);
  const campaigns = await loadCampaigns(db);
  const divisions = await loadDivisions(db);
  const campaign = campaigns.length ? pickCampaign(campaigns, {id: filter.campaign, asOf: meta.asOf}) : null;
  const scopeLevel = filter.within ? "市" : "省";
  const scope = filter.within ?? divisions.find((d) => d.level === "省")?.code ?? "";
  const kpiEntries = await Promise.all(
    KPI_METRICS.map(async (id) => {
      const row = (await metricByDivision(db, id, {level: scopeLevel, filter})).find((r) => r.code === scope);
      return [id, row ? {numerator: row.numerator, denominator: row.denominator, value: row.value} : null];
    })
  );
  const weeks = campaign
    ? await Promise.all([
        weeklyProgress(db, {from: campaign.start_date, to: meta.asOf, level: scopeLevel, filter}),
        filter.within
          ? Promise.resolve([])
          : weeklyProgress(db, {from: campaign.start_date, to: meta.asOf, level: "市", filter})
      ])
    : [[], []];
  const progress = [...weeks[0].filter((r) => r.code === scope), ...weeks[1]]
    .map((r) => ({code: r.code, week_ending: r.week_ending, coverage: r.coverage}))
    .sort((a, b) => compare(a.code, b.code) || compare(a.week_ending, b.week_ending));
  const recovery = (
    await metricByDivision(db, "recovery_total", {level: filter.within ? "县" : "市", filter})
  )
    .map((r) => ({code: r.code, numerator: r.numerator}))
    .sort((a, b) => compare(a.code, b.code));
  const ranking = await rankDivisions(db, {
    level: "县",
    filter,
    ...(filter.within ? {within: filter.within} : {})
  });
  return {
    scope,
    asOf: meta.asOf,
    kpi: Object.fromEntries(kpiEntries) as OverviewFigures["kpi"],
    progress,
    recovery,
    ranking: ranking.rows
      .map((r) => ({code: r.code, rank: r.rank, score: r.score, lagging: r.lagging}))
      .sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || compare(a.code, b.code))
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
