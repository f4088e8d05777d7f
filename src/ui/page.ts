/**
 * The pieces every report page shares: the as-of stamp, the filter bar kept in the URL, KPI cards that
 * carry their raw value, and a print header. Pages compose these; they compute nothing themselves.
 */
import * as Inputs from "@observablehq/inputs";
import {html} from "htl";
import {formatDate, formatDateTime} from "../format/date.js";
import {cleanText, compareZh, displayText} from "../format/text.js";
import {cubeOf} from "../metrics/cube-info.js";
import type {MetricFilter} from "../metrics/types.js";
import {sqlQuery, type QueryDb} from "../sql/template.js";
import {dateField} from "./date-field.js";

/** What the loader says about its data: as-of date, source and build time. */
export interface DataMeta {
  asOf: string;
  source: string;
  generatedAt: string;
}

/**
 * Reads what the loader wrote about the data (the `meta` table): the as-of date, the source and when
 * the database was generated. Every page reads it once for {@link asOfStamp} and {@link printHeader},
 * and uses `asOf` as the day its targets are measured at.
 *
 * @param db - the page's `db` (or any {@link QueryDb})
 * @returns `{asOf, source, generatedAt}`: the as-of day (YYYY-MM-DD), the source, the generation time (ISO); empty strings for keys not in the table
 * @example
 * ```ts
 * const meta = await loadMeta(db);
 * meta.asOf; // → "2024-09-27"
 * meta.source; // → "宁夏回族自治区 2024 年打击欺诈骗保专项整治行动（示例数据，由 npm run gen:data 按固定种子生成）"
 * ```
 */
export async function loadMeta(db: QueryDb): Promise<DataMeta> {
  const rows = await db.query(sqlQuery`SELECT key, value FROM meta`);
  const get = (key: string): string => String(rows.find((r) => r.key === key)?.value ?? "");
  return {asOf: get("as_of"), source: get("source"), generatedAt: get("generated_at")};
}

/**
 * The as-of line every page shows under its title, and in print: `数据截至 2024年9月27日 · 数据来源：… ·
 * 生成于 …` (generation time in Beijing time), with the as-of day in `data-as-of`.
 *
 * @param meta - what {@link loadMeta} read
 * @param options - what else to say (default {})
 * @param options.bundle - the DuckDB-WASM bundle that computes the page (`db.bundle`), added as `在浏览器中由 DuckDB-WASM（eh）计算` (default none: not said)
 * @param options.firstView - whether the default view comes pre-baked (`db.firstView`): then it says `首屏数字在构建时算出，筛选后在浏览器中由 DuckDB-WASM（eh）计算` (default false)
 * @returns a `<p class="fw-stamp" data-as-of>`
 * @example
 * ```ts
 * const stamp = asOfStamp(await loadMeta(db), db); // db.bundle and db.firstView
 * stamp.textContent?.includes("在浏览器中由 DuckDB-WASM（native）计算"); // → true
 * stamp.dataset.asOf; // → "2024-09-27"
 * stamp.textContent?.includes("数据截至 2024年9月27日 · 数据来源：宁夏回族自治区"); // → true
 * // In a page's Markdown, under the title: ${asOfStamp(meta, db)}
 * ```
 */
export function asOfStamp(
  meta: DataMeta,
  {bundle, firstView = false}: {bundle?: string; firstView?: boolean} = {}
): HTMLElement {
  const engine = bundle
    ? firstView
      ? ` · 首屏数字在构建时算出，筛选后在浏览器中由 DuckDB-WASM（${bundle}）计算`
      : ` · 在浏览器中由 DuckDB-WASM（${bundle}）计算`
    : "";
  return html`<p class="fw-stamp" data-as-of=${meta.asOf}>
    数据截至 ${formatDate(meta.asOf || null)} · 数据来源：${cleanText(meta.source)} · 生成于
    ${meta.generatedAt ? formatDateTime(new Date(meta.generatedAt)) : "—"}${engine}
  </p>` as HTMLElement;
}

/**
 * A header shown only on paper (the print style sheet shows it, the screen hides it; hidden from
 * screen readers): the site's name with the page's title, and the as-of date. A title made from the
 * data (a division's name) is shown as {@link displayText} shows names: cleaned and cut to 40 columns.
 *
 * @param title - the page's title, e.g. `"地区对比"`
 * @param meta - what {@link loadMeta} read
 * @returns a `<div class="fw-print-header">`
 * @example
 * ```ts
 * const header = printHeader("地区对比", await loadMeta(db));
 * header.querySelector("strong")?.textContent; // → "医保基金监管分析 · 地区对比"
 * header.querySelector("span")?.textContent; // → "数据截至 2024年9月27日"
 * // In a page's Markdown, before the title: ${printHeader("地区对比", meta)}
 * ```
 */
export function printHeader(title: string, meta: DataMeta): HTMLElement {
  return html`<div class="fw-print-header" aria-hidden="true">
    <strong>医保基金监管分析 · ${displayText(title)}</strong
    ><span>数据截至 ${formatDate(meta.asOf || null)}</span>
  </div>` as HTMLElement;
}

/**
 * A KPI card: a title, the figure as text, and an optional note; the figure carries its raw value
 * (`data-metric`, `data-value`, `data-unit`) so checks compare numbers, never formatted text. Put
 * several in `<div class="grid grid-cols-3">`.
 *
 * @param options - the card
 * @param options.title - the card's title, e.g. `"检查覆盖率"`
 * @param options.metric - the figure's name, written to `data-metric`, e.g. `"coverage"`
 * @param options.value - the raw value (fen for money, a share 0–1 for a rate), written to `data-value` (null: empty)
 * @param options.text - the figure as shown, e.g. `formatPercent(value)`
 * @param options.unit - the division code (or id) the figure is for, written to `data-unit` (default none)
 * @param options.note - a line under the figure: text, or a node such as ``html`<a href="./recovery">明细</a>` `` (default none)
 * @returns a `<div class="card fw-kpi">`
 * @example
 * ```ts
 * const [province] = await metricByDivision(db, "recovery_total", {level: "省"});
 * const card = kpiCard({title: "追回、拒付、扣回金额", metric: "recovery_total_fen", unit: "640000",
 *   value: province?.numerator ?? null, text: formatMoney(province?.numerator), note: "含追回、拒付、扣回"});
 * card.querySelector(".big")?.textContent; // → "1,699.40万元"
 * card.querySelector(".big")?.getAttribute("data-value"); // → "1699397782"
 * ```
 */
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

/**
 * Every division with its parent's name, in code order (one query a page shares for names, levels and
 * links): the province, its cities and their counties.
 *
 * @param db - the page's `db` (or any {@link QueryDb})
 * @returns one row per division: `{code, name, level, kind, parent_code, parent}` (`parent` null for the province)
 * @example
 * ```ts
 * const divisions = await loadDivisions(db);
 * divisions.filter((d) => d.level === "县").length; // → 24
 * divisions.find((d) => d.code === "640104"); // → {code: "640104", name: "兴庆区", level: "县", kind: "行政区划", parent_code: "640100", parent: "银川市"}
 * const names = new Map(divisions.map((d) => [d.code, d.name]));
 * names.get("640100"); // → "银川市"
 * ```
 */
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

/**
 * Reads the page's filter from a query string, as {@link syncUrl} writes it: `from`, `to` (YYYY-MM-DD),
 * `campaign`, `kind` (institution kinds, comma-separated), `ikind` (inspection kinds) and `city`
 * (`within`). Malformed dates and empty values are dropped; other parameters are ignored.
 *
 * @param search - the query string, usually `location.search` (with or without the leading `?`)
 * @returns the filter, with only the restrictions the URL states
 * @example
 * ```ts
 * filterFromSearch("?from=2024-06-01&kind=医院,诊所&city=640100&metric=coverage"); // → {from: "2024-06-01", institutionKinds: ["医院", "诊所"], within: "640100"}
 * filterFromSearch("?from=6月1日&kind="); // → {}
 * // In a page: const filter = view(filterBar(choices, filterFromSearch(location.search)));
 * ```
 */
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

/**
 * Writes the filter and the page's `extra` state into a query string, keeping the parameters it does
 * not set (such as `duckdb`); the reverse of {@link filterFromSearch}. Use it for links that carry the
 * filter to another page; {@link syncUrl} uses it for the page's own URL.
 *
 * @param search - the query string to start from, usually `location.search`
 * @param filter - the filter to write; a restriction it lacks is removed from the string
 * @param extra - more parameters, e.g. `{metric: "coverage"}`; null, undefined or `""` removes one (default {})
 * @returns the query string with its leading `?`, or `""` when empty
 * @example
 * ```ts
 * searchWithFilter("?duckdb=mvp", {from: "2024-06-01", within: "640100"}, {metric: "coverage"}); // → "?duckdb=mvp&from=2024-06-01&city=640100&metric=coverage"
 * searchWithFilter("?from=2024-06-01&metric=coverage", {}, {metric: null}); // → ""
 * ```
 */
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

/**
 * Replaces the page's URL with the filter and the page's `extra` state (without adding a history
 * entry), so a shared or bookmarked link opens exactly the same view. Does nothing outside a browser.
 *
 * @param filter - the filter, usually the value of {@link filterBar}
 * @param extra - the page's other state, e.g. `{metric: metricId, level}`; null or undefined removes one (default {})
 * @returns nothing; the URL changes in place
 * @example
 * ```ts
 * syncUrl({from: "2024-06-01", within: "640100"}, {metric: "coverage"});
 * filterFromSearch(location.search); // → {from: "2024-06-01", within: "640100"}
 * new URLSearchParams(location.search).get("metric"); // → "coverage"
 * ```
 */
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

/**
 * Reads the choices the filter bar offers from the data: the campaigns, the institution and
 * inspection kinds (in pinyin order), the cities, and the first and last inspection days.
 *
 * @param db - the page's `db` (or any {@link QueryDb})
 * @returns the choices, for {@link filterBar} and {@link describeFilter}
 * @example
 * ```ts
 * const choices = await loadFilterChoices(db);
 * choices.campaigns; // → [{id: "ZX2024", name: "2024年打击欺诈骗保专项整治行动"}]
 * choices.institutionKinds; // → ["村卫生室", "基层医疗机构", "零售药店", "医院", "诊所"]
 * choices.cities[0]; // → {code: "640100", name: "银川市"}
 * [choices.firstDay, choices.lastDay]; // → ["2024-05-15", "2024-09-26"]
 * ```
 */
export async function loadFilterChoices(db: QueryDb): Promise<FilterChoices> {
  // With a cube (src/metrics/cube.ts) the inspection kinds and days come from it: the same values,
  // without reading every inspection.
  const cube = (await cubeOf(db))?.choices === true;
  const [campaigns, institutionKinds, inspectionKinds, cities, days] = await Promise.all([
    db.query(sqlQuery`SELECT id, name FROM campaigns ORDER BY start_date, id`),
    db.query(sqlQuery`SELECT DISTINCT kind FROM institutions ORDER BY kind`),
    db.query(
      cube
        ? sqlQuery`SELECT kind FROM cube_inspection_kinds ORDER BY kind`
        : sqlQuery`SELECT DISTINCT kind FROM inspections ORDER BY kind`
    ),
    db.query(sqlQuery`SELECT code, name FROM divisions WHERE level = '市' ORDER BY code`),
    db.query(
      cube
        ? sqlQuery`SELECT strftime(first_day, '%Y-%m-%d') AS first, strftime(last_day, '%Y-%m-%d') AS last FROM cube_meta`
        : sqlQuery`SELECT strftime(min(date), '%Y-%m-%d') AS first, strftime(max(date), '%Y-%m-%d') AS last FROM inspections`
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

/** Campaign and city names in the filter's choices: cleaned and cut, so a long name cannot widen the bar. */
const choiceName = (name: string): string => displayText(name, {max: 32});

/**
 * The filter bar: date range, campaign, institution kinds, inspection kinds and city, started from
 * `initial` (usually {@link filterFromSearch} of the URL). Its value is a {@link PageFilter} with only
 * the restrictions chosen (all kinds ticked is no restriction), ready for every metric call; it
 * fires `input` on each change, so `view(filterBar(…))` gives the page a reactive filter. Keep the URL
 * in step with {@link syncUrl}. The dates are typed and shown the Chinese way whatever the browser's
 * language (`2024-05-10`, shown as `2024年5月10日`; see {@link dateField}), never as the browser's
 * `05/10/2024`. Campaign and city names, and kinds, are shown cleaned and cut to 32 columns (see
 * {@link displayText}).
 *
 * @param choices - what to offer, from {@link loadFilterChoices}
 * @param initial - the filter to start from (default {}: no restriction)
 * @param options - which inputs to show (default {})
 * @param options.city - offer the city choice; false on a page that is already about one division (default true)
 * @returns the bar, a `<div class="fw-filter-bar">` whose `value` is the filter
 * @example
 * ```ts
 * const choices = await loadFilterChoices(db);
 * const bar = filterBar(choices, filterFromSearch("?from=2024-06-01&kind=医院,诊所&city=640100"));
 * bar.value; // → {from: "2024-06-01", institutionKinds: ["医院", "诊所"], within: "640100"}
 * filterBar(choices, {}, {city: false}).value; // → {}
 * // In a page: const filter = view(filterBar(choices, filterFromSearch(location.search)));
 * ```
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
    from: dateField({label: "检查日期自", value: initial.from ?? null}),
    to: dateField({label: "至", value: initial.to ?? null}),
    campaign: Inputs.select([all, ...choices.campaigns.map((c) => c.id)], {
      label: "专项行动",
      value: initial.campaign ?? all,
      format: (id: string) => choiceName(campaignNames.get(id) ?? id)
    }),
    institutionKinds: Inputs.checkbox(choices.institutionKinds, {
      label: "机构类型",
      value: initial.institutionKinds ? [...initial.institutionKinds] : choices.institutionKinds,
      format: choiceName
    }),
    inspectionKinds: Inputs.checkbox(choices.inspectionKinds, {
      label: "检查方式",
      value: initial.inspectionKinds ? [...initial.inspectionKinds] : choices.inspectionKinds,
      format: choiceName
    })
  };
  if (city)
    inputs.within = Inputs.select([all, ...choices.cities.map((c) => c.code)], {
      label: "地市",
      value: initial.within ?? all,
      format: (code: string) => choiceName(cityNames.get(code) ?? code)
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
    if (typeof v.from === "string") filter.from = v.from;
    if (typeof v.to === "string") filter.to = v.to;
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

/**
 * Describes the filter in Chinese for captions and print, `全部数据` when there is none. With the
 * choices, campaigns and cities are named (cleaned and cut to 32 columns, see {@link displayText});
 * without, they are given by id and code. A caption that already names the page's division or
 * campaign beside the description (`银川市 · … · 2024年…行动`) passes them as `scope` and `campaign`:
 * the filter's city or campaign is then left out when it is that same one, so no caption names it
 * twice (`银川市 · 全部数据 · 2024年…行动`, not `银川市 · 银川市 · …`).
 *
 * @param filter - the filter, usually the value of {@link filterBar}
 * @param choices - the choices from {@link loadFilterChoices}, for names (default none: ids and codes)
 * @param options - what the caption names beside the description (default {})
 * @param options.scope - the code of the division the caption names: a city filter equal to it is left out (default none)
 * @param options.campaign - the id of the campaign the caption names: a campaign filter equal to it is left out (default none)
 * @returns the description
 * @example
 * ```ts
 * const choices = await loadFilterChoices(db);
 * describeFilter({from: "2024-06-01", institutionKinds: ["医院", "诊所"], within: "640100"}, choices); // → "检查日期 2024年6月1日至今；机构类型：医院、诊所；银川市"
 * describeFilter({campaign: "ZX2024"}, choices); // → "2024年打击欺诈骗保专项整治行动"
 * describeFilter({campaign: "ZX2024", within: "640100"}); // → "行动 ZX2024；640100"
 * describeFilter({}); // → "全部数据"
 * // A caption "银川市 · … · 2024年打击欺诈骗保专项整治行动" names the city and the campaign itself:
 * describeFilter({campaign: "ZX2024", within: "640100"}, choices, {scope: "640100", campaign: "ZX2024"}); // → "全部数据"
 * describeFilter({from: "2024-06-01", within: "640100"}, choices, {scope: "640100"}); // → "检查日期 2024年6月1日至今"
 * ```
 */
export function describeFilter(
  filter: PageFilter,
  choices?: FilterChoices,
  {scope, campaign}: {scope?: string | null; campaign?: string | null} = {}
): string {
  const parts: string[] = [];
  if (filter.from || filter.to)
    parts.push(
      `检查日期 ${filter.from ? formatDate(filter.from) : "起始"}至${filter.to ? formatDate(filter.to) : "今"}`
    );
  if (filter.campaign && filter.campaign !== campaign)
    parts.push(
      choiceName(choices?.campaigns.find((c) => c.id === filter.campaign)?.name ?? `行动 ${filter.campaign}`)
    );
  const kinds = (list: readonly string[]): string => list.map(choiceName).join("、") || "（无）";
  if (filter.institutionKinds) parts.push(`机构类型：${kinds(filter.institutionKinds)}`);
  if (filter.inspectionKinds) parts.push(`检查方式：${kinds(filter.inspectionKinds)}`);
  if (filter.within && filter.within !== scope)
    parts.push(choiceName(choices?.cities.find((c) => c.code === filter.within)?.name ?? filter.within));
  return parts.length ? parts.join("；") : "全部数据";
}
