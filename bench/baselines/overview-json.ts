/**
 * Baseline «precomputed JSON instead of DuckDB-WASM»: the overview's figures computed at build time
 * (by `overviewFigures` on any `db`) for every scope a reader can pick — the whole province and each
 * city — and written as one JSON file the page reads whole. Other filters (dates, campaign, kinds)
 * cannot be precomputed this way: the page says so instead of showing figures for another filter.
 *
 * Format ({@link OverviewJson}, `format: "fundwatch-overview/1"`):
 * - `meta`: as-of date, source, build time (`loadMeta`);
 * - `divisions`: every division's code, name, level and parent code, for names;
 * - `campaigns`: the campaigns (`loadCampaigns`), for the coverage chart's schedule;
 * - `choices`: the filter bar's choices (`loadFilterChoices`);
 * - `figures`: {@link OverviewFigures} by scope: `""` with no filter, a city's code with `{within: code}`.
 * Money is integer fen (JSON numbers, exact below 2^53), dates `YYYY-MM-DD`.
 */
import {mkdir} from "node:fs/promises";
import {dirname} from "node:path";
import {writeAtomic} from "../../loaders/outputs.js";
import {loadCampaigns, type Campaign} from "../../src/metrics/campaign.js";
import {
  loadDivisions,
  loadFilterChoices,
  loadMeta,
  type DataMeta,
  type FilterChoices
} from "../../src/ui/page.js";
import type {QueryDb} from "../../src/sql/template.js";
import {overviewFigures, type OverviewFigures} from "../overview-figures.js";

export const OVERVIEW_JSON_FORMAT = "fundwatch-overview/1";

export interface OverviewJson {
  format: typeof OVERVIEW_JSON_FORMAT;
  meta: DataMeta;
  divisions: {code: string; name: string; level: string; parent_code: string | null}[];
  campaigns: Campaign[];
  choices: FilterChoices;
  /** The figures by scope: `""` for no filter, a city's code for `{within: code}`. */
  figures: Record<string, OverviewFigures>;
}

/** The JSON's content: the figures of every scope (the province, then each city) and the lookups. */
export async function overviewJson(db: QueryDb): Promise<OverviewJson> {
  const [meta, divisions, campaigns, choices] = await Promise.all([
    loadMeta(db),
    loadDivisions(db),
    loadCampaigns(db),
    loadFilterChoices(db)
  ]);
  const figures: Record<string, OverviewFigures> = {"": await overviewFigures(db, {})};
  for (const city of choices.cities) figures[city.code] = await overviewFigures(db, {within: city.code});
  return {
    format: OVERVIEW_JSON_FORMAT,
    meta,
    divisions: divisions.map((d) => ({
      code: d.code,
      name: d.name,
      level: d.level,
      parent_code: d.parent_code
    })),
    campaigns,
    choices,
    figures
  };
}

/** Writes {@link overviewJson} to `file` (under a temporary name, then renamed). */
export async function writeOverviewJson(
  db: QueryDb,
  file: string
): Promise<{scopes: string[]; bytes: number}> {
  const content = await overviewJson(db);
  const text = JSON.stringify(content);
  await mkdir(dirname(file), {recursive: true});
  await writeAtomic(file, text);
  return {scopes: ["", ...content.choices.cities.map((c) => c.code)], bytes: Buffer.byteLength(text)};
}
