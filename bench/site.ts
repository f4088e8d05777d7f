/**
 * The benchmark's copy of the project (bench/.cache/site): the site is built there on each dataset, so
 * the benchmark never touches the project's own dist/. The build is the real one (`npm run build`'s
 * scripts/build.ts) with the PDF briefing off (it is timed by its own tests), with or without the page
 * check: only a build with the check writes each page's pre-baked first view, so the site the browser
 * part measures is built with it, as a release is.
 */
import {spawn} from "node:child_process";
import {cp, mkdir, readdir, readFile, rm, stat, symlink} from "node:fs/promises";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {addFavicon, setLang, writeBriefingIndex} from "../scripts/build.js";
import type {BuildInfo} from "../scripts/build-info.js";
import {externalizeInlineScripts} from "../scripts/csp.js";
import {precompress} from "../scripts/precompress.js";
import {listPages} from "../scripts/check-pages.js";
import {copyProject} from "../scripts/copy-project.js";
import {exportArrow} from "./baselines/export-arrow.js";
import {writeOverviewJson} from "./baselines/overview-json.js";
import {openNativeDb} from "./native.js";

export const PROJECT = fileURLToPath(new URL("../", import.meta.url));

/** Makes a fresh copy of the project in `dir` (node_modules linked, not copied). */
export async function prepareWorkspace(dir: string): Promise<void> {
  await rm(dir, {recursive: true, force: true});
  await copyProject(dir);
}

/** The environment of a build on `dataDir`: a fixed "today", no briefing, room for big inputs. */
export function buildEnv(dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    FUNDWATCH_DATA_DIR: dataDir,
    FUNDWATCH_TODAY: "2024-12-31",
    FUNDWATCH_BRIEFING: "0",
    OBSERVABLE_TELEMETRY_DISABLE: "true",
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --max-old-space-size=16384`.trim()
  };
}

/** Runs a command in `cwd`; resolves with its wall time in ms, rejects with the tail of its output. */
export function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, {cwd, env, stdio: ["ignore", "pipe", "pipe"]});
    let output = "";
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0
        ? resolve(performance.now() - start)
        : reject(
            new Error(`${command} ${args.join(" ")} 失败（${signal ?? code}）：\n${output.slice(-1500)}`)
          )
    );
  });
}

/**
 * `npm run build` in the workspace, with the page check (which writes the pages' pre-baked first view)
 * or `--no-check`; `cold` first removes every cache (Framework's, incl. node imports) and dist/.
 */
export async function timeBuild(
  dir: string,
  dataDir: string,
  {cold, check}: {cold: boolean; check: boolean}
): Promise<number> {
  if (cold) {
    await rm(join(dir, "reports", ".observablehq"), {recursive: true, force: true});
    await rm(join(dir, "dist"), {recursive: true, force: true});
  }
  return timed(
    join(dir, "node_modules", ".bin", "tsx"),
    check ? ["scripts/build.ts"] : ["scripts/build.ts", "--no-check"],
    dir,
    buildEnv(dataDir)
  );
}

/** The built site's build.json (page check, first view). */
export async function builtInfo(dir: string): Promise<BuildInfo> {
  return JSON.parse(await readFile(join(dir, "dist", "build.json"), "utf-8")) as BuildInfo;
}

/** The pages of the built site (every HTML page, the per-district ones included; not 404). */
export function sitePages(dir: string): Promise<string[]> {
  return listPages(join(dir, "dist"));
}

/**
 * The site's full database file in the built dist (its name carries a content hash); with `core`, the
 * small file; with `first`, the first file.
 */
export async function builtDatabase(
  dir: string,
  {core = false, first = false}: {core?: boolean; first?: boolean} = {}
): Promise<string> {
  const data = join(dir, "dist", "_file", "data");
  const prefix = first ? "fundwatch-first" : core ? "fundwatch-core" : "fundwatch";
  const pattern = new RegExp(`^${prefix}\\.[0-9a-f]+\\.duckdb$`);
  const name = (await readdir(data)).find((f) => pattern.test(f));
  if (!name) throw new Error(`${data} 中没有 ${prefix}.*.duckdb`);
  return join(data, name);
}

/**
 * Adds the two baselines to the built workspace: the Arrow export of its database (for /bench/arquero)
 * and the overview's figures precomputed as JSON (for /bench/json), then their pages
 * ({@link addBaselinePages}). Resolves with the Arrow files' total size.
 */
export async function addBaselines(dir: string, dataDir: string): Promise<number> {
  const dbFile = await builtDatabase(dir);
  let arrowBytes = 0;
  await addBaselinePages(dir, dataDir, async (out) => {
    const arrow = await exportArrow(dbFile, out);
    arrowBytes = arrow.reduce((sum, a) => sum + a.bytes, 0);
    const native = await openNativeDb(dbFile);
    try {
      await writeOverviewJson(native.db, join(out, "overview.json"));
    } finally {
      native.close();
    }
  });
  return arrowBytes;
}

/** Where the baselines' Framework build writes, in the workspace (then merged into dist/). */
const BASELINE_OUTPUT = "dist.bench";

/**
 * Adds the baseline pages (bench/pages → reports/bench, their modules and data) to the built site: a
 * second Framework build of the workspace (which reuses the database the last build made: its loader is
 * unchanged) into a folder of its own, whose files the site lacks (the baseline pages, their modules,
 * data and dependencies) are copied into dist/ with their `.gz`, as scripts/precompress.ts writes them.
 * The site's own files are left exactly as the build made them (pages with their pre-baked first view).
 */
export async function addBaselinePages(
  dir: string,
  dataDir: string,
  writeData: (out: string) => Promise<void>
) {
  const target = join(dir, "reports", "bench");
  await rm(target, {recursive: true, force: true});
  await cp(join(PROJECT, "bench", "pages"), target, {recursive: true});
  await cp(join(PROJECT, "bench", "baselines"), join(target, "baselines"), {recursive: true});
  await cp(join(PROJECT, "bench", "overview-figures.ts"), join(target, "overview-figures.ts"));
  await rm(join(dir, "reports", "src"), {force: true});
  await symlink("../src", join(dir, "reports", "src"));
  await mkdir(join(target, "data"), {recursive: true});
  await writeData(join(target, "data"));
  const output = join(dir, BASELINE_OUTPUT);
  await rm(output, {recursive: true, force: true});
  await timed(join(dir, "node_modules", ".bin", "observable"), ["build"], dir, {
    ...buildEnv(dataDir),
    FUNDWATCH_OUTPUT_DIR: BASELINE_OUTPUT
  });
  // What scripts/build.ts does after Framework's build (the briefing stays off, as in the timed builds).
  await setLang(output);
  await addFavicon(output);
  await externalizeInlineScripts(output);
  const dist = join(dir, "dist");
  if (!(await stat(join(dist, "briefing.json")).catch(() => null)))
    await writeBriefingIndex(dist, {sections: [], skipped: "基准测试不生成简报"});
  // The files the site lacks (force: false keeps every file the build made), then their .gz:
  // precompress leaves a .gz that already holds the right bytes as it is.
  await cp(output, dist, {recursive: true, force: false, errorOnExist: false});
  await precompress(dist);
  await rm(output, {recursive: true, force: true});
}
