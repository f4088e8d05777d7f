/**
 * `npm run new:report -- <slug> "<标题>"`: a new report page, reports/<slug>.md, from a template that
 * already has the filter bar (kept in the URL), a metric chosen from a select, a query through the
 * SDK, a ranked-bars chart, the district ranking with its reasons and the as-of stamp; and the page
 * added to the navigation (reports/navigation.json). Refuses a slug that is not URL-safe, that is
 * reserved, or whose page (or navigation entry) already exists. Nothing outside reports/ is touched.
 */
import {existsSync} from "node:fs";
import {readFile} from "node:fs/promises";
import {join, relative} from "node:path";
import {fileURLToPath} from "node:url";
import {writeAtomic} from "../loaders/outputs.js";
import {checkNavigation, NAVIGATION_FILE, pageSource} from "./navigation.js";

/** Lower-case letters and digits in words joined by single hyphens: `recovery-by-kind`. */
const SLUG = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** Names the site uses itself (folders of the build or of reports/, and its own pages). */
const RESERVED = new Set([
  "sdk",
  "data",
  "components",
  "district",
  "briefing",
  "bench",
  "index",
  "404",
  "guide"
]);

export class ScaffoldError extends Error {
  override name = "ScaffoldError";
}

/** Why `slug` cannot name a new page in `reportsRoot`, or null if it can. */
export function slugProblem(slug: string, reportsRoot: string): string | null {
  if (!SLUG.test(slug))
    return `页面名「${slug}」不可用：只能用小写英文字母、数字和连字符，以字母开头，例如 recovery-by-kind`;
  if (slug.length > 60) return `页面名「${slug}」太长（最多 60 个字符）`;
  if (RESERVED.has(slug)) return `页面名「${slug}」是站点保留的名字，请换一个`;
  if (existsSync(join(reportsRoot, `${slug}.md`)) || existsSync(join(reportsRoot, slug)))
    return `页面「${slug}」已存在：${relative(process.cwd(), join(reportsRoot, `${slug}.md`))}`;
  return null;
}

/** The template: a working page an analyst edits, in Chinese, with the places to change marked. */
export function reportTemplate(title: string): string {
  const quoted = JSON.stringify(title);
  return `---
title: ${quoted}
charts: 1
---

\${printHeader(${quoted}, meta)}

# ${title}

\`\`\`js
import {
  openDatabase, loadMeta, loadDivisions, asOfStamp, printHeader, loadFilterChoices, filterFromSearch, filterBar,
  syncUrl, describeFilter, METRICS, metricById, metricByDivision, formatMetricValue, rankDivisions, rankedBars,
  sortableTable, Inputs
} from "./sdk/index.js";

const db = await openDatabase({fundwatch: [FileAttachment("data/fundwatch-first.duckdb"), FileAttachment("data/fundwatch-core.duckdb"), FileAttachment("data/fundwatch.duckdb")]});
const meta = await loadMeta(db);
const choices = await loadFilterChoices(db);
const divisions = await loadDivisions(db);
const nameOf = new Map(divisions.map((d) => [d.code, d.name]));
const search = new URLSearchParams(location.search);
\`\`\`

\${asOfStamp(meta, db)}

<!-- 说明：在这里写本页的用途和口径。写法见「写报告指南」（/guide）。 -->

\`\`\`js
const filter = view(filterBar(choices, filterFromSearch(location.search)));
\`\`\`

\`\`\`js
// 本页默认的指标：改 "coverage" 为其他指标（全部指标见 /guide）。
const metricId = view(
  Inputs.select(METRICS.map((m) => m.id), {
    label: "指标",
    value: METRICS.some((m) => m.id === search.get("metric")) ? search.get("metric") : "coverage",
    format: (id) => metricById(id).name
  })
);
\`\`\`

\`\`\`js
syncUrl(filter, {metric: metricId});
const metric = metricById(metricId);
// 各县区的指标值（筛选在查询里用绑定参数传入）；level: "市" 则为各地市。
const rows = (await metricByDivision(db, metric, {level: "县", filter}))
  .filter((r) => r.value !== null)
  .map((r) => ({...r, name: nameOf.get(r.code) ?? r.code}));
\`\`\`

<p class="fw-caption">\${metric.name}（县区）· \${describeFilter(filter, choices)}</p>

\`\`\`js
display(
  resize((width) =>
    rankedBars(rows, {
      width,
      id: "report-ranked",
      title: \`各县区\${metric.name}\`,
      label: (r) => r.name,
      value: (r) => r.value,
      format: (v) => formatMetricValue(metric, v)
    })
  )
);
\`\`\`

## 县区排名

\`\`\`js
// 按所选指标排名（direction：指标越高越好还是越低越好；没有方向的指标按越高越好）。
// 选了地市时只在该市的县区之间排名（within）。
const ranking = await rankDivisions(db, {
  level: "县",
  filter,
  ...(filter.within ? {within: filter.within} : {}),
  metrics: [{id: metric.id, weight: 1, ...(metric.direction === "neutral" ? {direction: "higher"} : {})}]
});
display(
  sortableTable(ranking.rows, {
    caption: \`按\${metric.name}的县区排名（后四分之一为落后）\`,
    key: (r) => r.code,
    sort: {column: 0},
    rowClass: (r) => (r.lagging ? "fw-lagging" : null),
    columns: [
      {label: "排名", value: (r) => r.rank, metric: "ranking_rank"},
      {label: "县区", value: (r) => r.name, format: (v, r) => \`\${v}\${r.lagging ? "（落后）" : ""}\`, href: (r) => \`./district/\${r.code}\`},
      {label: metric.name, value: (r) => r.metrics[0]?.value ?? null, format: (v) => formatMetricValue(metric, v), metric: metric.id},
      {label: "原因", value: (r) => r.reasons.join("；") || "—"}
    ]
  })
);
\`\`\`
`;
}

/** Creates reports/<slug>.md and adds it to the navigation; returns the file written. */
export async function newReport(
  slug: string,
  title: string,
  reportsRoot: string
): Promise<{file: string; navigation: string}> {
  const problem = slugProblem(slug, reportsRoot);
  if (problem) throw new ScaffoldError(problem);
  const name = title.trim();
  if (name === "")
    throw new ScaffoldError('请给出页面标题，例如：npm run new:report -- recovery-by-kind "按机构类型追回"');
  if (/[\n\r`$<>{}]/.test(name))
    throw new ScaffoldError(`标题「${name}」含有不能用于标题的字符（换行、\` $ < > { }）`);
  const navigationFile = join(reportsRoot, NAVIGATION_FILE);
  const navigation = checkNavigation(JSON.parse(await readFile(navigationFile, "utf-8")), reportsRoot);
  const path = `/${slug}`;
  if (navigation.some((entry) => entry.path === path)) throw new ScaffoldError(`导航中已有 ${path}`);
  const file = pageSource(reportsRoot, path);
  await writeAtomic(file, reportTemplate(name));
  const entries = [...navigation, {name, path}];
  await writeAtomic(
    navigationFile,
    `[\n${entries.map((e) => `  {"name": ${JSON.stringify(e.name)}, "path": ${JSON.stringify(e.path)}}`).join(",\n")}\n]\n`
  );
  return {file, navigation: navigationFile};
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [slug, title, ...rest] = process.argv.slice(2);
  const root = fileURLToPath(new URL("../reports/", import.meta.url)).replace(/\/$/, "");
  if (!slug || title === undefined || rest.length > 0) {
    console.error(
      '用法：npm run new:report -- <页面名> "<标题>"，例如：npm run new:report -- recovery-by-kind "按机构类型追回"'
    );
    process.exit(1);
  }
  try {
    const {file} = await newReport(slug, title, root);
    console.log(`已创建 ${relative(process.cwd(), file)}，并加入导航（reports/${NAVIGATION_FILE}）。`);
    console.log(`预览：npm run dev，打开 http://127.0.0.1:3000/${slug}`);
    console.log("检查：npm run check（构建并用无头浏览器打开每个页面）");
  } catch (error) {
    console.error(`[fundwatch] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
