/**
 * The benchmark's copy of the project (bench/.cache/site): the site is built there on each dataset, so
 * the benchmark never touches the project's own dist/. The build is the real one (`npm run build`'s
 * scripts/build.ts) with the PDF briefing and the page check off (the briefing is timed by its own tests;
 * the check opens every page, which the browser part measures on its own).
 */
import {spawn} from "node:child_process";
import {cp, mkdir, readdir, rm, symlink} from "node:fs/promises";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {setLang, writeBriefingIndex} from "../scripts/build.js";
import {externalizeInlineScripts} from "../scripts/csp.js";
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

/** `npm run build` in the workspace; `cold` first removes every cache (Framework's, incl. node imports) and dist/. */
export async function timeBuild(dir: string, dataDir: string, cold: boolean): Promise<number> {
  if (cold) {
    await rm(join(dir, "reports", ".observablehq"), {recursive: true, force: true});
    await rm(join(dir, "dist"), {recursive: true, force: true});
  }
  return timed(
    join(dir, "node_modules", ".bin", "tsx"),
    ["scripts/build.ts", "--no-check"],
    dir,
    buildEnv(dataDir)
  );
}

/** The pages of the built site (every HTML page, the per-district ones included; not 404). */
export function sitePages(dir: string): Promise<string[]> {
  return listPages(join(dir, "dist"));
}

/** The site's database file in the built dist (its name carries a content hash). */
export async function builtDatabase(dir: string): Promise<string> {
  const data = join(dir, "dist", "_file", "data");
  const name = (await readdir(data)).find((f) => /^fundwatch\.[0-9a-f]+\.duckdb$/.test(f));
  if (!name) throw new Error(`${data} 中没有 fundwatch.*.duckdb`);
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

/**
 * Adds the baseline pages (bench/pages → reports/bench, their modules and data) to the workspace and
 * rebuilds with Framework directly, which reuses the database the last build made (its loader is unchanged).
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
  await timed(join(dir, "node_modules", ".bin", "observable"), ["build"], dir, buildEnv(dataDir));
  // What scripts/build.ts does after Framework's build (the briefing stays off, as in the timed builds).
  await setLang(join(dir, "dist"));
  await externalizeInlineScripts(join(dir, "dist"));
  await writeBriefingIndex(join(dir, "dist"), {sections: [], skipped: "基准测试不生成简报"});
}
