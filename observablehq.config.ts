// Observable Framework configuration. The site is built with no network access but the npm
// registry and served from its own origin only: no web fonts, no search index, no CDN imports.
import {join} from "node:path";
import {formatDateTime} from "./src/format/date.js";
import {divisionCodes} from "./loaders/fundwatch-db.js";
import {codePageFolders, readNavigation} from "./scripts/navigation.js";

export default {
  root: "reports",
  // scripts/build.ts builds into a staging folder and publishes it to dist/ only when every check passed.
  output: process.env.FUNDWATCH_OUTPUT_DIR ?? "dist",
  title: "医保基金监管分析",
  // The navigation is reports/navigation.json (analysts add pages there, or `npm run new:report` does).
  get pages() {
    return readNavigation(join(import.meta.dirname, "reports"));
  },
  // The default head links Google Fonts; the intranet has no internet. Fonts come from the system.
  globalStylesheets: [],
  style: "style.css",
  toc: {label: "本页目录"},
  pager: false,
  search: false,
  cleanUrls: true,
  // Every parameterized page reports/<folder>/[code].md (the district pages, and any an analyst adds)
  // gets one page per city and county of the input's divisions.
  dynamicPaths: async function* () {
    const folders = await codePageFolders(join(import.meta.dirname, "reports"));
    if (folders.length === 0) return;
    const codes = await divisionCodes(import.meta.dirname);
    for (const folder of folders) for (const code of codes) yield `/${folder}/${code}`;
  },
  footer: footer()
};

/**
 * The footer of every page: the build time (Beijing time) and commit, which scripts/build.ts passes in,
 * and a marker where the build writes the data's as-of date (so even pages without data state it).
 */
function footer(): string {
  const builtAt = new Date(process.env.FUNDWATCH_BUILD_TIME ?? Date.now());
  const commit = (process.env.FUNDWATCH_BUILD_COMMIT ?? "").slice(0, 7);
  const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return (
    `<span class="fw-built" data-built-at="${escape(builtAt.toISOString())}">构建于 ${escape(formatDateTime(builtAt))}` +
    `${/^[0-9a-f]{7}$/.test(commit) ? `（版本 ${commit}）` : ""}</span>` +
    // scripts/build.ts replaces this marker with the data's as-of date once the data file is built.
    "<!--fw-as-of-->" +
    " · 医保基金监管分析 · Fundwatch · 数据在浏览器本地计算，不向任何外部地址发送请求"
  );
}
