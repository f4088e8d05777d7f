/**
 * `npm run check [-- --no-build] [--pages /a,/b] [--all-districts]`: builds the site (PDF briefing
 * off) and opens every page in headless Chromium with the same checker the browser tests run
 * (scripts/check-pages.ts): a page fails on an error cell, a page or console error, a request to any
 * other origin, a missing file, an empty chart or fewer charts than its `charts:` front matter, or a
 * query whose DuckDB-WASM answer differs from native DuckDB's on the same data (scripts/query-check.ts).
 * The per-district pages share one source, so one of them (/district/640100 or the first) stands for
 * all unless `--all-districts`. Prints one line per page and exits non-zero if any page failed.
 */
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {launchChromium} from "./browser.js";
import {build} from "./build.js";
import {checkPages, listPages, pageTimeoutMs, type PageReport} from "./check-pages.js";
import {withSiteDb} from "./query-check.js";
import {startServer} from "./serve.js";

interface Options {
  build: boolean;
  pages: string[] | null;
  allDistricts: boolean;
}

const USAGE = "用法：npm run check [-- --no-build] [--pages /a,/b] [--all-districts]";

export function parseCheckArgs(argv: readonly string[]): Options {
  const options: Options = {build: true, pages: null, allDistricts: false};
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if (arg === "--no-build") options.build = false;
    else if (arg === "--all-districts") options.allDistricts = true;
    else if (arg === "--pages") {
      const list = argv[++i];
      if (!list) throw new Error(`--pages 后应跟页面路径，例如 --pages /,/districts\n${USAGE}`);
      options.pages = list.split(",").map((p) => (p.startsWith("/") ? p : `/${p}`));
    } else throw new Error(`不认识的参数：${arg}\n${USAGE}`);
  }
  return options;
}

/** The pages to open: all, with the district pages cut to one unless asked for all. */
export function pagesToCheck(all: readonly string[], options: Options): string[] {
  if (options.pages) {
    const missing = options.pages.filter((p) => !all.includes(p));
    if (missing.length > 0) throw new Error(`站点中没有这些页面：${missing.join("、")}`);
    return options.pages;
  }
  if (options.allDistricts) return [...all];
  const districts = all.filter((p) => p.startsWith("/district/"));
  const standIn = districts.includes("/district/640100") ? "/district/640100" : districts[0];
  return all.filter((p) => !p.startsWith("/district/") || p === standIn);
}

/** One line per page: ✔ or ✘ with its problems. */
export function formatReport(reports: readonly PageReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    if (r.problems.length === 0)
      lines.push(
        `✔ ${r.path}（${r.charts} 个图表${r.queries === undefined ? "" : `，${r.queries} 个查询与原生 DuckDB 一致`}）`
      );
    else {
      lines.push(`✘ ${r.path}`);
      for (const p of r.problems) lines.push(`    ${p}`);
    }
  }
  const failed = reports.filter((r) => r.problems.length > 0).length;
  lines.push(
    failed === 0
      ? `\n全部 ${reports.length} 个页面通过检查。`
      : `\n${failed} 个页面有问题（共检查 ${reports.length} 个）。截图在 test-results/check/。`
  );
  return lines.join("\n");
}

async function main(): Promise<number> {
  const options = parseCheckArgs(process.argv.slice(2));
  const root = fileURLToPath(new URL("../", import.meta.url));
  const dist = join(root, "dist");
  if (options.build) {
    console.error("[fundwatch] 构建站点（不生成 PDF 简报）…");
    // The build's own page check would open every page; this command checks the pages asked for below.
    await build({root, env: {...process.env, FUNDWATCH_BRIEFING: "0"}, check: false});
  }
  const pages = pagesToCheck(await listPages(dist), options);
  const timeoutMs = await pageTimeoutMs(dist);
  const browser = await launchChromium();
  const {server, url} = await startServer({root: dist});
  try {
    console.error(`[fundwatch] 用无头浏览器打开 ${pages.length} 个页面…`);
    const reports = await withSiteDb(dist, (nativeDb) =>
      checkPages({
        browser,
        baseUrl: url,
        pages,
        sourceRoot: join(root, "reports"),
        screenshotDir: join(root, "test-results", "check"),
        nativeDb,
        timeoutMs
      })
    );
    console.log(formatReport(reports));
    return reports.some((r) => r.problems.length > 0) ? 1 : 0;
  } finally {
    server.close();
    await browser.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`[fundwatch] 检查失败：${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
  );
}
