/**
 * `npm run build`: builds the site into dist/ with no network access but the npm registry.
 * Data loaders always rerun (their cached outputs are removed first), so a rebuild can never
 * publish figures made from older inputs; the HTML gets lang="zh-CN" (Framework has no option).
 */
import {spawn} from "node:child_process";
import {readdir, readFile, rm, writeFile} from "node:fs/promises";
import {basename, join, relative} from "node:path";
import {fileURLToPath} from "node:url";
import {writeBriefing, type BriefingSummary} from "./briefing.js";

const projectRoot = fileURLToPath(new URL("../", import.meta.url));

/** Removes cached loader outputs, keeping the bundles of node imports (`_node`), which are keyed by version. */
export async function clearLoaderCache(root = projectRoot): Promise<void> {
  const cache = join(root, "reports", ".observablehq", "cache");
  const entries = await readdir(cache).catch(() => [] as string[]);
  await Promise.all(
    entries.filter((e) => e !== "_node").map((e) => rm(join(cache, e), {recursive: true, force: true}))
  );
}

async function* htmlFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* htmlFiles(path);
    else if (entry.name.endsWith(".html")) yield path;
  }
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
 * Why a failed `observable build` failed, in Chinese, when its output shows a known cause: a page that
 * needs a module from the CDN (the intranet has none). Null when the output shows no known cause.
 */
export function explainBuildFailure(output: string): string | null {
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
export async function briefingStep({
  root,
  env,
  findChromium,
  log = (message: string) => console.error(message)
}: BriefingStepOptions): Promise<BriefingSummary> {
  if (env.FUNDWATCH_BRIEFING === "0") {
    const skipped = "已按要求跳过（FUNDWATCH_BRIEFING=0）";
    log(`[fundwatch] 未生成 PDF 简报：${skipped}。`);
    await writeBriefingIndex(join(root, "dist"), {sections: [], skipped});
    return {sections: [], skipped};
  }
  // While the pages are printed the index exists and says so (the overview reads it).
  await writeBriefingIndex(join(root, "dist"), {sections: [], skipped: "正在生成"});
  const summary = await writeBriefing({dist: join(root, "dist"), findChromium, log});
  await writeBriefingIndex(
    join(root, "dist"),
    summary.file === undefined ? {sections: [], skipped: "构建机器上没有 Chromium"} : summary
  );
  if (summary.skipped !== undefined || summary.file === undefined) {
    const hint = (summary.skipped ?? "").replace(/^/gm, "  ");
    log(`[fundwatch] 未生成 PDF 简报：找不到 Chromium。站点本身已照常构建。\n${hint}`);
  } else {
    const pages = summary.sections.reduce((sum, s) => sum + s.pages, 0);
    log(
      `[fundwatch] PDF 简报：${relative(root, summary.file)}（${summary.sections.length} 节，${pages} 页）`
    );
  }
  return summary;
}

/** Builds the site of the project at `root` (default: this one) into `root/dist`, with its PDF briefing. */
export async function build({
  root = projectRoot,
  env = process.env,
  findChromium
}: {root?: string; env?: NodeJS.ProcessEnv; findChromium?: () => string} = {}): Promise<void> {
  await clearLoaderCache(root);
  const observable = join(root, "node_modules", ".bin", "observable");
  await run(observable, ["build"], root, {...env, OBSERVABLE_TELEMETRY_DISABLE: "true"});
  const pages = await setLang(join(root, "dist"));
  await briefingStep({root, env, findChromium});
  console.error(`[fundwatch] 构建完成：${pages} 个页面，输出目录 dist/`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  build().catch((error: unknown) => {
    console.error(`[fundwatch] 构建失败：${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
