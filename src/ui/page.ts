/**
 * The pieces every report page shares: the as-of stamp, the filter bar kept in the URL, KPI cards that
 * carry their raw value, and a print header. Pages compose these; they compute nothing themselves.
 */
import * as Inputs from "@observablehq/inputs";
import {html} from "htl";
import {formatDate, formatDateTime} from "../format/date.js";
import {compareZh} from "../format/text.js";
import type {MetricFilter} from "../metrics/types.js";
import {sqlQuery, type QueryDb} from "../sql/template.js";

/** What the loader says about its data: as-of date, source and build time. */
export interface DataMeta {
  asOf: string;
  source: string;
  generatedAt: string;
}

export async function loadMeta(db: QueryDb): Promise<DataMeta> {
  const rows = await db.query(sqlQuery`SELECT key, value FROM meta`);
  const get = (key: string): string => String(rows.find((r) => r.key === key)?.value ?? "");
  return {asOf: get("as_of"), source: get("source"), generatedAt: get("generated_at")};
}

/** `数据截至 2024年9月27日 · 数据来源：… · 生成于 …`, shown on every page and in print. */
export function asOfStamp(meta: DataMeta, {bundle}: {bundle?: string} = {}): HTMLElement {
  return html`<p class="fw-stamp" data-as-of=${meta.asOf}>
    数据截至 ${formatDate(meta.asOf || null)} · 数据来源：${meta.source} · 生成于
    ${meta.generatedAt ? formatDateTime(new Date(meta.generatedAt)) : "—"}${
      bundle ? ` · 在浏览器中由 DuckDB-WASM（${bundle}）计算` : ""
    }
  </p>` as HTMLElement;
}

/** A header shown only on paper: the page's title and the as-of date. */
export function printHeader(title: string, meta: DataMeta): HTMLElement {
  return html`<div class="fw-print-header" aria-hidden="true">
    <strong>医保基金监管分析 · ${title}</strong><span>数据截至 ${formatDate(meta.asOf || null)}</span>
  </div>` as HTMLElement;
}

/** A KPI card whose figure carries its raw value (`data-metric`, `data-value`, `data-unit`). */
export function kpiCard({
  title,
  metric,
  value,
  text,
  unit,
  note
}: {
  title: string;
  metric: string;
  value: number | string | null;
  text: string;
  unit?: string;
  note?: string | Node;
}): HTMLElement {
  return html`<div class="card fw-kpi">
    <h2>${title}</h2>
    <span class="big" data-metric=${metric} data-unit=${unit ?? null} data-value=${value ?? ""}>${text}</span>
    ${note ? html`<p class="fw-kpi-note">${note}</p>` : ""}
  </div>` as HTMLElement;
}

/** A division with its parent's name, as pages list and link them. */
export interface DivisionRow {
  code: string;
  name: string;
  level: string;
  kind: string;
  parent_code: string | null;
  /** The parent's name; null for the province. */
  parent: string | null;
}

/** Every division with its parent's name (one query a page shares for names, levels and links). */
export async function loadDivisions(db: QueryDb): Promise<DivisionRow[]> {
  const rows = await db.query(sqlQuery`SELECT d.code, d.name, d.level, d.kind, d.parent_code, p.name AS parent
FROM divisions AS d LEFT JOIN divisions AS p ON p.code = d.parent_code ORDER BY d.code`);
  return rows.map((r) => ({
    code: String(r.code),
    name: String(r.name),
    level: String(r.level),
    kind: String(r.kind),
    parent_code: r.parent_code == null ? null : String(r.parent_code),
    parent: r.parent == null ? null : String(r.parent)
  }));
}

/** The filters a page offers, in the URL as `from`, `to`, `campaign`, `kind`, `ikind`, `city`. */
export interface PageFilter extends MetricFilter {
  within?: string;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Reads the filter (and any other `keys`) from a query string; malformed values are dropped. */
export function filterFromSearch(search: string): PageFilter {
  const params = new URLSearchParams(search);
  const filter: PageFilter = {};
  const from = params.get("from");
  const to = params.get("to");
  if (from && ISO_DAY.test(from)) filter.from = from;
  if (to && ISO_DAY.test(to)) filter.to = to;
  const campaign = params.get("campaign");
  if (campaign) filter.campaign = campaign;
  const kinds = params.get("kind")?.split(",").filter(Boolean);
  if (kinds?.length) filter.institutionKinds = kinds;
  const ikinds = params.get("ikind")?.split(",").filter(Boolean);
  if (ikinds?.length) filter.inspectionKinds = ikinds;
  const city = params.get("city");
  if (city) filter.within = city;
  return filter;
}

/** Writes the filter and page `extra` state into a query string, keeping other parameters (`duckdb`). */
export function searchWithFilter(
  search: string,
  filter: PageFilter,
  extra: Record<string, string | null | undefined> = {}
): string {
  const params = new URLSearchParams(search);
  const set = (key: string, value: string | undefined | null): void => {
    if (value) params.set(key, value);
    else params.delete(key);
  };
  set("from", filter.from);
  set("to", filter.to);
  set("campaign", filter.campaign);
  set("kind", filter.institutionKinds?.join(","));
  set("ikind", filter.inspectionKinds?.join(","));
  set("city", filter.within);
  for (const [key, value] of Object.entries(extra)) set(key, value);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Replaces the page's URL with the filter, so a shared link opens exactly the same view. */
export function syncUrl(filter: PageFilter, extra: Record<string, string | null | undefined> = {}): void {
  if (typeof location === "undefined" || typeof history === "undefined") return;
  const search = searchWithFilter(location.search, filter, extra);
  if (search !== location.search)
    history.replaceState(history.state, "", `${location.pathname}${search}${location.hash}`);
}

/** The choices the filter bar offers, from the data. */
export interface FilterChoices {
  campaigns: {id: string; name: string}[];
  institutionKinds: string[];
  inspectionKinds: string[];
  cities: {code: string; name: string}[];
  firstDay: string | null;
  lastDay: string | null;
}

export async function loadFilterChoices(db: QueryDb): Promise<FilterChoices> {
  const [campaigns, institutionKinds, inspectionKinds, cities, days] = await Promise.all([
    db.query(sqlQuery`SELECT id, name FROM campaigns ORDER BY start_date, id`),
    db.query(sqlQuery`SELECT DISTINCT kind FROM institutions`),
    db.query(sqlQuery`SELECT DISTINCT kind FROM inspections`),
    db.query(sqlQuery`SELECT code, name FROM divisions WHERE level = '市' ORDER BY code`),
    db.query(
      sqlQuery`SELECT strftime(min(date), '%Y-%m-%d') AS first, strftime(max(date), '%Y-%m-%d') AS last FROM inspections`
    )
  ]);
  const kinds = (rows: Record<string, unknown>[]): string[] =>
    rows.map((r) => String(r.kind)).sort(compareZh);
  return {
    campaigns: campaigns.map((r) => ({id: String(r.id), name: String(r.name)})),
    institutionKinds: kinds(institutionKinds),
    inspectionKinds: kinds(inspectionKinds),
    cities: cities.map((r) => ({code: String(r.code), name: String(r.name)})),
    firstDay: days[0]?.first == null ? null : String(days[0].first),
    lastDay: days[0]?.last == null ? null : String(days[0].last)
  };
}

const toDate = (iso: string | undefined | null): Date | null => (iso ? new Date(`${iso}T00:00:00Z`) : null);
const toIso = (d: unknown): string | undefined =>
  d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString().slice(0, 10) : undefined;

/**
 * The filter bar: date range, campaign, institution kinds, inspection kinds and city, started from
 * `initial` (usually {@link filterFromSearch} of the URL). Its value is a {@link PageFilter} with only
 * the restrictions chosen; every change updates the URL.
 */
export function filterBar(
  choices: FilterChoices,
  initial: PageFilter = {},
  {city = true}: {city?: boolean} = {}
): HTMLElement & {value: PageFilter} {
  const all = "全部";
  const campaignNames = new Map(choices.campaigns.map((c) => [c.id, c.name]));
  const cityNames = new Map(choices.cities.map((c) => [c.code, c.name]));
  const inputs: Record<string, HTMLElement> = {
    from: Inputs.date({label: "检查日期自", value: toDate(initial.from), min: choices.firstDay ?? undefined}),
    to: Inputs.date({label: "至", value: toDate(initial.to), max: choices.lastDay ?? undefined}),
    campaign: Inputs.select([all, ...choices.campaigns.map((c) => c.id)], {
      label: "专项行动",
      value: initial.campaign ?? all,
      format: (id: string) => campaignNames.get(id) ?? id
    }),
    institutionKinds: Inputs.checkbox(choices.institutionKinds, {
      label: "机构类型",
      value: initial.institutionKinds ? [...initial.institutionKinds] : choices.institutionKinds
    }),
    inspectionKinds: Inputs.checkbox(choices.inspectionKinds, {
      label: "检查方式",
      value: initial.inspectionKinds ? [...initial.inspectionKinds] : choices.inspectionKinds
    })
  };
  if (city)
    inputs.within = Inputs.select([all, ...choices.cities.map((c) => c.code)], {
      label: "地市",
      value: initial.within ?? all,
      format: (code: string) => cityNames.get(code) ?? code
    });
  const form = Inputs.form(inputs, {
    template: (parts: Record<string, HTMLElement>) =>
      html`<details class="fw-filters" open>
        <summary>筛选条件</summary>
        <div class="fw-filter-grid">${Object.values(parts)}</div>
      </details>`
  }) as HTMLElement & {value: Record<string, unknown>};
  const bar = html`<div class="fw-filter-bar"></div>` as HTMLElement & {value: PageFilter};
  bar.append(form);
  const read = (): PageFilter => {
    const v = form.value;
    const filter: PageFilter = {};
    const from = toIso(v.from);
    const to = toIso(v.to);
    if (from) filter.from = from;
    if (to) filter.to = to;
    if (typeof v.campaign === "string" && v.campaign !== all) filter.campaign = v.campaign;
    const kinds = v.institutionKinds as string[];
    // All kinds ticked is no restriction; none ticked is kept (the metrics then say the list is empty).
    if (kinds.length < choices.institutionKinds.length) filter.institutionKinds = kinds;
    const ikinds = v.inspectionKinds as string[];
    if (ikinds.length < choices.inspectionKinds.length) filter.inspectionKinds = ikinds;
    if (typeof v.within === "string" && v.within !== all) filter.within = v.within;
    return filter;
  };
  bar.value = read();
  form.addEventListener("input", (event) => {
    event.stopPropagation();
    bar.value = read();
    bar.dispatchEvent(new Event("input", {bubbles: true}));
  });
  return bar;
}

/** Describes the active filter in Chinese for captions and print (`全部数据` when none). */
export function describeFilter(filter: PageFilter, choices?: FilterChoices): string {
  const parts: string[] = [];
  if (filter.from || filter.to)
    parts.push(
      `检查日期 ${filter.from ? formatDate(filter.from) : "起始"}至${filter.to ? formatDate(filter.to) : "今"}`
    );
  if (filter.campaign)
    parts.push(choices?.campaigns.find((c) => c.id === filter.campaign)?.name ?? `行动 ${filter.campaign}`);
  if (filter.institutionKinds) parts.push(`机构类型：${filter.institutionKinds.join("、") || "（无）"}`);
  if (filter.inspectionKinds) parts.push(`检查方式：${filter.inspectionKinds.join("、") || "（无）"}`);
  if (filter.within) parts.push(choices?.cities.find((c) => c.code === filter.within)?.name ?? filter.within);
  return parts.length ? parts.join("；") : "全部数据";
}
