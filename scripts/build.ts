/**
 * `npm run build`: builds the site with no network access but the npm registry, and publishes it to
 * dist/ only when everything passed. In order:
 *
 * 1. Cached data-loader outputs are kept only if everything the loaders read is unchanged since the
 *    last successful build (scripts/loader-cache.ts); otherwise every loader reruns.
 * 2. `observable build` writes into a staging folder (.fundwatch-build/next), never into dist/.
 * 3. The pages get lang="zh-CN" and their inline scripts are moved to files (for the CSP); build.json
 *    records the build time, commit, library versions and the data's as-of date and input files.
 * 4. Every page is opened in headless Chromium (scripts/check-pages.ts): no error, no outside request,
 *    its charts drawn. Then the PDF briefing, and gzip siblings for the server.
 * 5. Only then does the staging folder replace dist/. A failure at any step leaves dist/ as it was,
 *    keeps the unpublished output in .fundwatch-build/failed/ and exits non-zero with the reason.
 *
 * `--no-check` skips step 4's page check (recorded in build.json; `npm run release` refuses such a build).
 */
import {execFileSync, spawn} from "node:child_process";
import {mkdir, open, readdir, readFile, rename, rm, stat, writeFile} from "node:fs/promises";
import {basename, join, relative, sep} from "node:path";
import {fileURLToPath} from "node:url";
import {DuckDBInstance} from "@duckdb/node-api";
import {LOADER_FAILURE} from "../loaders/fundwatch-db.js";
import type {BuildInfo} from "./build-info.js";
import {checkCorePair} from "../loaders/core-file.js";
import {isAlive} from "../loaders/duckdb-file.js";
import {writeAtomic} from "../loaders/outputs.js";
import {launchChromium} from "./browser.js";
export type {BuildInfo};
import {readGateReport, dataManifest} from "../loaders/gates.js";
import {openNativeDb} from "../loaders/native-db.js";
import {databaseFile, replaceDirectory, writeBriefing, type BriefingSummary} from "./briefing.js";
import {checkPages, listPages, pageTimeoutMs, type PageReport} from "./check-pages.js";
import {externalizeInlineScripts} from "./csp.js";
import {
  clearLoaderCache,
  recordLoaderInputs,
  refreshLoaderCache,
  type CacheDecision
} from "./loader-cache.js";
import {precompress} from "./precompress.js";
import {withSiteDb} from "./query-check.js";
import {startServer} from "./serve.js";
import {formatDate} from "../src/format/date.js";

const projectRoot = fileURLToPath(new URL("../", import.meta.url));

export {clearLoaderCache};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

async function* htmlFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* htmlFiles(path);
    else if (entry.name.endsWith(".html")) yield path;
  }
}

/** The site's icon: a page without one makes the browser ask for /favicon.ico at the server's root (a 404 under a sub-path). */
const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1f5fa8"/>' +
  '<path d="M9 8h14v4H14v3h8v4h-8v5H9z" fill="#fff"/></svg>\n';

/**
 * Writes favicon.svg at the top of the site and links it from every page (relative to the page, so
 * the site works under any sub-path); returns the number of pages.
 */
export async function addFavicon(outDir: string): Promise<number> {
  await writeFile(join(outDir, "favicon.svg"), FAVICON);
  let count = 0;
  for await (const file of htmlFiles(outDir)) {
    const text = await readFile(file, "utf-8");
    const depth = relative(outDir, file).split(sep).length - 1;
    const href = depth === 0 ? "./favicon.svg" : `${"../".repeat(depth)}favicon.svg`;
    if (!text.includes('<link rel="icon"')) {
      if (!text.includes("</head>")) throw new Error(`${file}: 找不到 </head>，无法加入网站图标`);
      await writeFile(
        file,
        text.replace("</head>", `<link rel="icon" href="${href}" type="image/svg+xml">\n</head>`)
      );
    }
    ++count;
  }
  return count;
}

/** Sets lang="zh-CN" on every page. */
export async function setLang(outDir: string): Promise<number> {
  let count = 0;
  for await (const file of htmlFiles(outDir)) {
    const text = await readFile(file, "utf-8");
    if (!text.includes('<html lang="zh-CN">\n')) {
      if (!text.includes("<html>\n")) throw new Error(`${file}: 找不到 <html> 标签，无法设置 lang`);
      await writeFile(file, text.replace("<html>\n", '<html lang="zh-CN">\n'));
    }
    ++count;
  }
  return count;
}

/**
 * Writes the data's as-of date into every page's footer, where observablehq.config.ts left the marker
 * `<!--fw-as-of-->`; throws naming a page that has no marker (every page must state it).
 */
export async function stampAsOf(outDir: string, asOf: string): Promise<number> {
  const stamp =
    ` · <span class="fw-as-of" data-as-of="${asOf.replace(/[^0-9-]/g, "")}">` +
    `数据截至 ${formatDate(asOf || null)}</span>`;
  let count = 0;
  for await (const file of htmlFiles(outDir)) {
    const text = await readFile(file, "utf-8");
    if (!text.includes("<!--fw-as-of-->"))
      throw new Error(`${file}: 页脚中没有数据截至日期的位置（<!--fw-as-of-->）`);
    await writeFile(file, text.replaceAll("<!--fw-as-of-->", stamp));
    ++count;
  }
  return count;
}

/**
 * Why a failed `observable build` failed, in Chinese, when its output shows a known cause: a data
 * loader that could not load its inputs (its marked message, quoted), or a page that needs a module
 * from the CDN (the intranet has none). Null when the output shows no known cause.
 */
export function explainBuildFailure(output: string): string | null {
  const failures = [...output.matchAll(new RegExp(`${escapeRegExp(LOADER_FAILURE)}(.*(?:\\n- .*)*)`, "g"))];
  if (failures.length > 0) return failures.map((m) => m[1]).join("\n");
  const cdn = /ENOTFOUND cdn\.jsdelivr\.net|fetch failed/.test(output);
  const npm = [...output.matchAll(/^(npm:[^\s]+) → /gm)].map((m) => m[1]);
  if (!cdn || npm.length === 0) return null;
  const page = [...output.matchAll(/^load (\/\S*)/gm)].at(-1)?.[1];
  return (
    `${page ? `页面 ${page} ` : "某个页面"}需要从 CDN 下载 ${[...new Set(npm)].join("、")}，构建时没有外网。` +
    "常见原因：```sql 单元格没有写 display=false（默认的结果表格要从 CDN 加载组件，请写 display=false 再用 sortableTable 显示）；" +
    '用了 Inputs、Plot、d3 或 html 却没有从 "./sdk/index.js" 导入；或写了 npm: 导入。'
  );
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {cwd, env, stdio: ["ignore", "pipe", "pipe"]});
    // Passed through as it comes; the tail is kept to explain a failure.
    let tail = "";
    const keep = (chunk: Buffer, to: NodeJS.WriteStream): void => {
      to.write(chunk);
      tail = (tail + chunk.toString()).slice(-200_000);
    };
    child.stdout.on("data", (chunk: Buffer) => keep(chunk, process.stdout));
    child.stderr.on("data", (chunk: Buffer) => keep(chunk, process.stderr));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) return resolve();
      const why = explainBuildFailure(tail);
      reject(
        new Error(
          `${command} ${args.join(" ")} 失败（${signal ?? `退出码 ${code}`}）${why ? `：${why}` : ""}`
        )
      );
    });
  });
}

/**
 * `dist/briefing.json`, always written, so the overview can link the PDF when there is one (and say
 * why not otherwise) without requesting a file that may be missing.
 */
export async function writeBriefingIndex(dist: string, summary: BriefingSummary): Promise<void> {
  const pages = summary.sections.reduce((sum, s) => sum + s.pages, 0);
  const index = summary.file
    ? {file: `briefing/${basename(summary.file)}`, sections: summary.sections.length, pages}
    : {file: null, skipped: summary.skipped ?? "未生成"};
  await writeFile(join(dist, "briefing.json"), JSON.stringify(index));
}

export interface BriefingStepOptions {
  root: string;
  /** The built site the briefing is made from and written into (default `root/dist`). */
  dist?: string;
  env: NodeJS.ProcessEnv;
  /** Finds Chromium or throws (default: the system's); tests inject a failing one. */
  findChromium?: () => string;
  log?: (message: string) => void;
}

/**
 * The build's PDF briefing (scripts/briefing.ts), and what the build says about it. Skipped when
 * FUNDWATCH_BRIEFING=0, or when there is no Chromium (the site itself is built all the same; the
 * message says how to install it). A broken page is an error: the promise rejects, naming it.
 */
/**
 * Checks that the site's small data files (`fundwatch-core.*.duckdb` and `fundwatch-first.*.duckdb`,
 * when a page uses them) were made from the site's full data file (loaders/core-file.ts): otherwise a
 * page's default view and its records would come from different loads.
 */
export async function checkSiteCoreFile(dist: string): Promise<void> {
  const dir = join(dist, "_file", "data");
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const [kind, label] of [
    ["core", "首屏小文件"],
    ["first", "首屏文件"]
  ] as const) {
    const found = names.filter((f) => new RegExp(`^fundwatch-${kind}\\.[0-9a-f]+\\.duckdb$`).test(f));
    const [file] = found;
    if (file === undefined) continue;
    if (found.length > 1) throw new Error(`${dir} 中应有一个${label}，实有 ${found.length} 个`);
    await checkCorePair(join(dir, file), await databaseFile(dist));
  }
}

export async function briefingStep({
  root,
  dist = join(root, "dist"),
  env,
  findChromium,
  log = (message: string) => console.error(message)
}: BriefingStepOptions): Promise<BriefingSummary> {
  if (env.FUNDWATCH_BRIEFING === "0") {
    const skipped = "已按要求跳过（FUNDWATCH_BRIEFING=0）";
    log(`[fundwatch] 未生成 PDF 简报：${skipped}。`);
    await writeBriefingIndex(dist, {sections: [], skipped});
    return {sections: [], skipped};
  }
  // While the pages are printed the index exists and says so (the overview reads it).
  await writeBriefingIndex(dist, {sections: [], skipped: "正在生成"});
  const summary = await writeBriefing({
    dist: dist,
    findChromium,
    log,
    timeoutMs: await pageTimeoutMs(dist, env)
  });
  await writeBriefingIndex(
    dist,
    summary.file === undefined ? {sections: [], skipped: "构建机器上没有 Chromium"} : summary
  );
  if (summary.skipped !== undefined || summary.file === undefined) {
    const hint = (summary.skipped ?? "").replace(/^/gm, "  ");
    log(`[fundwatch] 未生成 PDF 简报：找不到 Chromium。站点本身已照常构建。\n${hint}`);
  } else {
    const pages = summary.sections.reduce((sum, s) => sum + s.pages, 0);
    log(
      `[fundwatch] PDF 简报：${join("dist", relative(dist, summary.file))}（${summary.sections.length} 节，${pages} 页）`
    );
  }
  return summary;
}

/** The commit of the checkout at `root` and whether it has uncommitted changes; null outside git. */
export function gitCommit(root: string): {commit: string | null; dirty: boolean} {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: root,
      stdio: ["ignore", "pipe", "ignore"]
    })
      .toString()
      .trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: root,
      stdio: ["ignore", "pipe", "ignore"]
    }).toString();
    return {commit: /^[0-9a-f]{40}$/.test(commit) ? commit : null, dirty: status.trim() !== ""};
  } catch {
    return {commit: null, dirty: false};
  }
}

async function packageVersion(root: string, name: string): Promise<string> {
  const text = await readFile(join(root, "node_modules", name, "package.json"), "utf-8");
  return String((JSON.parse(text) as {version: unknown}).version);
}

/**
 * The as-of date, source, generation time, input files, records by division (what the next build's
 * completeness gates compare with) and the gates' verdict recorded in the built site's database file.
 */
export async function readDataInfo(dist: string): Promise<BuildInfo["data"]> {
  const file = await databaseFile(dist);
  const native = await openNativeDb(file);
  let divisions: BuildInfo["data"]["divisions"];
  let gates: BuildInfo["data"]["gates"];
  try {
    divisions = (await dataManifest(native.db)).divisions;
    gates = (await readGateReport(native.db)) ?? undefined;
  } finally {
    native.close();
  }
  const instance = await DuckDBInstance.create(file, {access_mode: "READ_ONLY"});
  const connection = await instance.connect();
  try {
    const meta = new Map(
      (await connection.runAndReadAll("SELECT key, value FROM meta"))
        .getRows()
        .map(([k, v]) => [String(k), String(v)])
    );
    const inputs = (
      await connection.runAndReadAll(
        "SELECT file, dataset, sha256, rows_read, rows_loaded, rows_rejected, rows_skipped FROM inputs ORDER BY file, sheet"
      )
    )
      .getRows()
      .map(([file, dataset, sha256, read, loaded, rejected, skipped]) => ({
        file: String(file),
        dataset: String(dataset),
        sha256: String(sha256),
        rows_read: Number(read),
        rows_loaded: Number(loaded),
        rows_rejected: Number(rejected),
        rows_skipped: Number(skipped ?? 0)
      }));
    return {
      as_of: meta.get("as_of") ?? "",
      source: meta.get("source") ?? "",
      generated_at: meta.get("generated_at") ?? "",
      inputs,
      divisions,
      ...(gates ? {gates} : {})
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * A loader that exits 0 is trusted by Framework even when its output is empty: refuse a site whose
 * data has no as-of date, no input file, or no loaded row.
 */
export function checkDataInfo(data: BuildInfo["data"]): void {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(data.as_of))
    throw new Error(`数据文件没有数据截至日期（as_of=「${data.as_of}」）`);
  if (data.inputs.length === 0) throw new Error("数据文件没有记录任何输入文件：输入目录是空的吗？");
  if (data.inputs.every((i) => i.rows_loaded === 0)) throw new Error("所有输入文件都没有载入任何行");
}

/** Opens every page of the built site in `dist` in headless Chromium. */
async function checkBuiltPages(
  root: string,
  dist: string,
  screenshotDir: string | undefined,
  env: NodeJS.ProcessEnv
): Promise<PageReport[]> {
  const pages = await listPages(dist);
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  try {
    browser = await launchChromium();
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n发布前的页面检查需要 Chromium。` +
        "只在本机预览可以用 npm run build -- --no-check（这样的构建不能用 npm run release 打包）。",
      {cause: error}
    );
  }
  const {server, url} = await startServer({root: dist});
  try {
    // One page at a time: two at once on a two-core machine made a slow cell miss the wait now and then.
    // Every query of every page is also run in native DuckDB on the same file (scripts/query-check.ts).
    // Native DuckDB's answers to each page's default view become the page's pre-baked first view.
    const timeoutMs = await pageTimeoutMs(dist, env);
    const dataPath = relative(dist, await databaseFile(dist))
      .split(sep)
      .join("/");
    return await withSiteDb(dist, (nativeDb) =>
      checkPages({
        browser,
        baseUrl: url,
        pages,
        sourceRoot: join(root, "reports"),
        screenshotDir,
        nativeDb,
        firstView: {dist, dataPath},
        timeoutMs
      })
    );
  } finally {
    server.close();
    await browser.close();
  }
}

/** What build.json says of the pages' pre-baked first views (none: the pages were not checked). */
export function firstViewSummary(reports: readonly PageReport[] | null): BuildInfo["first_view"] {
  const baked = (reports ?? []).filter((r) => r.firstView);
  return {
    pages: baked.filter((r) => (r.firstView?.queries ?? 0) > 0).length,
    queries: baked.reduce((n, r) => n + (r.firstView?.queries ?? 0), 0),
    skipped: baked.flatMap((r) =>
      (r.firstView?.skipped ?? []).map((s) => ({page: r.path, sql: s.sql.slice(0, 300), reason: s.reason}))
    )
  };
}

/** Formats the problems of the pages that failed the check, for the build's error message. */
export function describeFailedPages(reports: readonly PageReport[], limit = 10): string {
  const failed = reports.filter((r) => r.problems.length > 0);
  const cut = (text: string): string => (text.length > 200 ? `${text.slice(0, 200)}…` : text);
  const lines = failed.slice(0, limit).map((r) => {
    const unique = [...new Set(r.problems)];
    return `  ${r.path}：${unique.slice(0, 3).map(cut).join("；")}${unique.length > 3 ? " …" : ""}`;
  });
  if (failed.length > limit) lines.push(`  …另有 ${failed.length - limit} 个页面`);
  return `${failed.length} 个页面没有通过检查（共 ${reports.length} 个）：\n${lines.join("\n")}`;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/** Takes the build lock of the project (one build at a time); returns its release. */
async function lockBuild(work: string): Promise<() => Promise<void>> {
  const file = join(work, "lock");
  for (let attempt = 0; attempt < 2; ++attempt) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, {force: true});
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(await readFile(file, "utf-8").catch(() => ""));
      if (pid > 0 && isAlive(pid)) throw new Error(`另一个构建正在进行（进程 ${pid}）；等它结束再构建`);
      await rm(file, {force: true});
    }
  }
  throw new Error(`无法取得构建锁 ${file}`);
}

export interface BuildOptions {
  /** The project (default: this one); the site is published to `root/dist`. */
  root?: string;
  env?: NodeJS.ProcessEnv;
  findChromium?: () => string;
  /** Open every page before publishing (default true); false publishes unchecked, saying so in build.json. */
  check?: boolean;
  /** Where the page check keeps a screenshot of each page (default none). */
  screenshotDir?: string;
  /**
   * An administrator's reason to publish although completeness gates failed (`--accept "…"`); shown on
   * the quality page and recorded in build.json and the release manifest. Default: none (a failed gate stops the build).
   */
  accept?: string;
  log?: (message: string) => void;
}

export interface BuildResult {
  dist: string;
  pages: number;
  info: BuildInfo;
  /** The page check's report of every page (null when skipped). */
  reports: PageReport[] | null;
  cache: CacheDecision;
}

/** Builds the project at `root` (default: this one) and publishes it to `root/dist`; see the module comment. */
export async function build({
  root = projectRoot,
  env = process.env,
  findChromium,
  check = true,
  screenshotDir,
  accept,
  log = (message: string) => console.error(message)
}: BuildOptions = {}): Promise<BuildResult> {
  if (accept !== undefined) {
    if (accept.trim() === "")
      throw new Error('--accept 需要写明原因，例如 --accept "固原市本周数据经电话核实无误"');
    env = {...env, FUNDWATCH_ACCEPT: accept};
  }
  const work = join(root, ".fundwatch-build");
  const staging = join(work, "next");
  const failed = join(work, "failed");
  const dist = join(root, "dist");
  await mkdir(work, {recursive: true});
  const unlock = await lockBuild(work);
  try {
    await rm(staging, {recursive: true, force: true});
    const builtAt = new Date(env.FUNDWATCH_BUILD_TIME ?? Date.now());
    if (Number.isNaN(builtAt.getTime()))
      throw new Error(`FUNDWATCH_BUILD_TIME 不是有效的时间：「${env.FUNDWATCH_BUILD_TIME}」`);
    const {commit, dirty} = gitCommit(root);
    const cache = await refreshLoaderCache(root, env);
    log(
      cache.reused
        ? "[fundwatch] 数据加载器的输入与上次成功构建相同，沿用缓存的输出"
        : `[fundwatch] 重新运行数据加载器：${cache.reasons.join("；")}`
    );
    try {
      const observable = join(root, "node_modules", ".bin", "observable");
      await run(observable, ["build"], root, {
        ...env,
        OBSERVABLE_TELEMETRY_DISABLE: "true",
        FUNDWATCH_OUTPUT_DIR: relative(root, staging),
        FUNDWATCH_BUILD_TIME: builtAt.toISOString(),
        FUNDWATCH_BUILD_COMMIT: commit ?? ""
      });
      await recordLoaderInputs(root, cache.fingerprint);
      const pages = await setLang(staging);
      await addFavicon(staging);
      await externalizeInlineScripts(staging);
      const data = await readDataInfo(staging);
      checkDataInfo(data);
      await checkSiteCoreFile(staging);
      await stampAsOf(staging, data.as_of);
      await briefingStep({root, dist: staging, env, findChromium, log});
      let reports: PageReport[] | null = null;
      if (check) {
        log(`[fundwatch] 检查页面：用无头浏览器打开全部 ${pages} 个页面…`);
        reports = await checkBuiltPages(root, staging, screenshotDir, env);
        if (reports.some((r) => r.problems.length > 0)) throw new Error(describeFailedPages(reports));
        const view = firstViewSummary(reports);
        log(
          `[fundwatch] 首屏数据：${view?.pages ?? 0} 个页面预先算好 ${view?.queries ?? 0} 个查询` +
            (view?.skipped.length
              ? `；${view.skipped.length} 个查询留给浏览器计算（见 build.json first_view）`
              : "")
        );
      } else
        log("[fundwatch] 按要求跳过页面检查（--no-check）；这个构建不能用来发布（npm run release 会拒绝）");
      const info: BuildInfo = {
        format: 1,
        built_at: builtAt.toISOString(),
        commit,
        commit_dirty: dirty,
        versions: {
          framework: await packageVersion(root, "@observablehq/framework"),
          duckdb_wasm: await packageVersion(root, "@duckdb/duckdb-wasm"),
          node: process.version
        },
        data,
        page_check: {status: reports ? "passed" : "skipped", pages: reports?.length ?? 0},
        first_view: firstViewSummary(reports),
        loaders: {rerun: !cache.reused, reasons: cache.reasons}
      };
      await writeAtomic(join(staging, "build.json"), JSON.stringify(info, null, 2) + "\n");
      await precompress(staging);
      await replaceDirectory(staging, dist);
      log(`[fundwatch] 构建完成：${pages} 个页面，已发布到 dist/（数据截至 ${data.as_of}）`);
      return {dist, pages, info, reports, cache};
    } catch (error) {
      await rm(failed, {recursive: true, force: true});
      if (await exists(staging)) await rename(staging, failed).catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      const kept = (await exists(failed)) ? `未发布的输出留在 ${relative(root, failed)}/ 供查看。` : "";
      throw new Error(
        `${reason}\n构建没有发布：dist/ 保持原样${(await exists(dist)) ? "（上一次发布的站点仍在）" : ""}。${kept}`,
        {cause: error}
      );
    }
  } finally {
    await unlock();
  }
}

/** `npm run build [-- --no-check] [--accept "原因"]`: the options, or an error saying the usage. */
export function parseBuildArgs(args: readonly string[]): {check: boolean; accept?: string} {
  const usage = '用法：npm run build [-- --no-check] [--accept "原因"]';
  const options: {check: boolean; accept?: string} = {check: true};
  for (let i = 0; i < args.length; ++i) {
    const arg = args[i];
    if (arg === "--no-check") options.check = false;
    else if (arg === "--accept") {
      const reason = args[++i];
      if (reason === undefined || reason.trim() === "" || reason.startsWith("--"))
        throw new Error(`--accept 后应写明照常发布的原因（${usage}）`);
      options.accept = reason;
    } else throw new Error(`不认识的参数：${arg}（${usage}）`);
  }
  return options;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let options: ReturnType<typeof parseBuildArgs>;
  try {
    options = parseBuildArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`[fundwatch] ${(error as Error).message}`);
    process.exit(2);
  }
  build(options).catch((error: unknown) => {
    console.error(`[fundwatch] 构建失败：${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
