/**
 * Keeps Framework's cached data-loader outputs only while everything they were made from is unchanged.
 *
 * Framework reruns a loader only when its cached output is missing or older than the loader file; a
 * change to an input file, to the code the loader imports or to its environment is ignored, so a
 * scheduled rebuild would publish old figures. Before every build, {@link refreshLoaderCache} takes a
 * fingerprint of what the loaders read:
 *
 * - every file of the input folder (`data/ningxia/`, or `FUNDWATCH_DATA_DIR`), by content;
 * - the holiday calendar (`data/节假日.csv`, or `FUNDWATCH_CALENDAR`), by content;
 * - the loaders and all the project code they can import: `reports/data/`, `loaders/`, `src/`,
 *   `scripts/`, `observablehq.config.ts`, `package-lock.json` (the installed library versions), and
 *   the checks configuration `fundwatch.checks.json`;
 * - the loaders' environment: every `FUNDWATCH_*` variable but the build's own switches, and Node's version.
 *
 * and compares it with the fingerprint recorded after the last successful build. Any difference
 * removes every cached loader output (the set is deliberately wider than any one loader's real inputs:
 * a needless rerun costs time, a missed one publishes wrong figures). The record keeps only hashes
 * (an environment value is never written, even hashed with its name alone in a readable form), and
 * lives in Framework's cache folder, which is never part of the site.
 */
import {createHash} from "node:crypto";
import {readdir, readFile, rm, stat} from "node:fs/promises";
import {join, relative, resolve, sep} from "node:path";
import {CHECKS_FILE} from "../loaders/checks-config.js";
import {sha256File, writeAtomic} from "../loaders/outputs.js";
import {calendarPath} from "../loaders/calendar.js";

/** Variables that steer the build itself, not what a loader computes. */
const BUILD_ONLY_VARIABLES = new Set([
  "FUNDWATCH_BRIEFING",
  "FUNDWATCH_BUILD_TIME",
  "FUNDWATCH_BUILD_COMMIT",
  "FUNDWATCH_OUTPUT_DIR",
  "FUNDWATCH_PAGE_SECONDS"
]);

/** Project files and folders the loaders can read or import, relative to the project root. */
const CODE_PATHS = [
  "reports/data",
  "loaders",
  "src",
  "scripts",
  "observablehq.config.ts",
  "package-lock.json",
  CHECKS_FILE
];

export interface Fingerprint {
  /** sha256 over all the parts below. */
  hash: string;
  /** Part name (`input:…`, `code:…`, `env:…`, `node`) → sha256 of that part. */
  parts: Record<string, string>;
}

const RECORD = ".fundwatch-loader-inputs.json";

function cacheDir(root: string): string {
  return join(root, "reports", ".observablehq", "cache");
}

/** Every file under `path` (or `path` itself), skipping dot folders and node_modules, sorted. */
async function filesUnder(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return [];
  if (info.isFile()) return [path];
  const files: string[] = [];
  for (const entry of await readdir(path, {withFileTypes: true})) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    files.push(...(await filesUnder(join(path, entry.name))));
  }
  return files.sort();
}

/** The input folder the site's loader reads: `FUNDWATCH_DATA_DIR` (relative to the root) or data/ningxia. */
export function inputFolder(root: string, env: NodeJS.ProcessEnv): string {
  return resolve(root, env.FUNDWATCH_DATA_DIR ?? join("data", "ningxia"));
}

/** The fingerprint of everything the data loaders of the project at `root` read, under `env`. */
export async function loaderFingerprint(root: string, env: NodeJS.ProcessEnv): Promise<Fingerprint> {
  const parts: Record<string, string> = {};
  const inputs = inputFolder(root, env);
  const inputFiles = await filesUnder(inputs);
  parts["input-folder"] = createHash("sha256").update(inputs).digest("hex");
  for (const file of inputFiles)
    parts[`input:${relative(inputs, file).split(sep).join("/")}`] = await sha256File(file);
  for (const file of await filesUnder(calendarPath(root, env)))
    parts[`calendar:${relative(root, file).split(sep).join("/")}`] = await sha256File(file);
  for (const path of CODE_PATHS)
    for (const file of await filesUnder(join(root, path)))
      parts[`code:${relative(root, file).split(sep).join("/")}`] = await sha256File(file);
  const variables = Object.keys(env)
    .filter((name) => name.startsWith("FUNDWATCH_") && !BUILD_ONLY_VARIABLES.has(name))
    .sort();
  for (const name of variables)
    parts[`env:${name}`] = createHash("sha256")
      .update(`${name}\0${env[name] ?? ""}`)
      .digest("hex");
  parts.node = createHash("sha256").update(process.version).digest("hex");
  const hash = createHash("sha256");
  for (const key of Object.keys(parts).sort()) hash.update(`${key}\0${parts[key]}\n`);
  return {hash: hash.digest("hex"), parts};
}

/** What differs between two fingerprints, as readable part names (at most `limit`, then a count). */
export function describeChanges(before: Fingerprint | null, after: Fingerprint, limit = 8): string[] {
  if (!before) return ["没有上次成功构建的记录"];
  const keys = [...new Set([...Object.keys(before.parts), ...Object.keys(after.parts)])].sort();
  const changed = keys.filter((k) => before.parts[k] !== after.parts[k]);
  const label = (key: string): string => {
    const [kind, ...rest] = key.split(":");
    const name = rest.join(":");
    const verb = !(key in before.parts) ? "新增" : !(key in after.parts) ? "删除" : "变化";
    if (kind === "input") return `输入文件${verb}：${name}`;
    if (kind === "code") return `代码${verb}：${name}`;
    if (kind === "env") return `环境变量${verb}：${name}`;
    if (kind === "calendar") return `节假日表${verb}：${name}`;
    if (kind === "input-folder") return "输入目录换了";
    return "Node.js 版本变化";
  };
  const lines = changed.slice(0, limit).map(label);
  if (changed.length > limit) lines.push(`等共 ${changed.length} 项`);
  return lines;
}

async function readRecord(root: string): Promise<Fingerprint | null> {
  try {
    const value = JSON.parse(await readFile(join(cacheDir(root), RECORD), "utf-8")) as Fingerprint;
    return typeof value.hash === "string" && typeof value.parts === "object" ? value : null;
  } catch {
    return null;
  }
}

/** Removes cached loader outputs, keeping the bundles of node imports (`_node`), which are keyed by version. */
export async function clearLoaderCache(root: string): Promise<void> {
  const cache = cacheDir(root);
  const entries = await readdir(cache).catch(() => [] as string[]);
  await Promise.all(
    entries.filter((e) => e !== "_node").map((e) => rm(join(cache, e), {recursive: true, force: true}))
  );
}

export interface CacheDecision {
  /** True when the cached outputs were made from exactly these inputs and are kept. */
  reused: boolean;
  /** Why they were removed (empty when reused). */
  reasons: string[];
  fingerprint: Fingerprint;
}

/**
 * Before a build: keeps the cached loader outputs if they were made from the same inputs as now,
 * else removes them all (and the record, so a build that then fails leaves no claim behind).
 * Call {@link recordLoaderInputs} with the returned fingerprint once the build has succeeded.
 */
export async function refreshLoaderCache(root: string, env: NodeJS.ProcessEnv): Promise<CacheDecision> {
  const fingerprint = await loaderFingerprint(root, env);
  const before = await readRecord(root);
  if (before?.hash === fingerprint.hash) return {reused: true, reasons: [], fingerprint};
  // The record goes first: if this build fails after a loader has written a new output, the next
  // build must not take that output for one made from the recorded inputs.
  await rm(join(cacheDir(root), RECORD), {force: true});
  await clearLoaderCache(root);
  return {reused: false, reasons: describeChanges(before, fingerprint), fingerprint};
}

/** Records that the cached loader outputs were made from the inputs `fingerprint` describes. */
export async function recordLoaderInputs(root: string, fingerprint: Fingerprint): Promise<void> {
  await writeAtomic(join(cacheDir(root), RECORD), JSON.stringify(fingerprint));
}
