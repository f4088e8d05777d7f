/**
 * The site's data loader: ingests the input folder (the embedded default data, or the folder named by
 * FUNDWATCH_DATA_DIR), writes the database file to a temporary folder and copies its bytes to the
 * loader's stdout. Logs go to stderr; a structural problem in the inputs, or a completeness gate that
 * fails (loaders/gates.ts, compared with the published dist/build.json) without the administrator's
 * `FUNDWATCH_ACCEPT` reason, fails the loader (and the build).
 */
import {createReadStream, createWriteStream} from "node:fs";
import {mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import {pipeline} from "node:stream/promises";
import type {Writable} from "node:stream";
import {calendarPath} from "./calendar.js";
import {ingestOptions, loadChecks} from "./checks-config.js";
import {writeCoreFile, writeFirstFile} from "./core-file.js";
import {isAlive, writeDuckDBFile} from "./duckdb-file.js";
import {buildCube, METRICS} from "../src/metrics/index.js";
import {
  checkGates,
  describeGateReport,
  gateError,
  gateTables,
  readPreviousBuild,
  type GateReport
} from "./gates.js";
import {datasetFromFileName, listInputFiles, skippedFileLines} from "./ingest.js";
import {ingestSql, type SqlIngestResult} from "./ingest-sql.js";
import {generationTime, toTables} from "./outputs.js";
import {loaderFingerprint} from "../scripts/loader-cache.js";

/** The default input folder, or the one `FUNDWATCH_DATA_DIR` names. */
export function inputDirectory(projectRoot: string): string {
  return resolve(projectRoot, process.env.FUNDWATCH_DATA_DIR ?? join("data", "ningxia"));
}

export const DEFAULT_SOURCE =
  "宁夏回族自治区 2024 年打击欺诈骗保专项整治行动（示例数据，由 npm run gen:data 按固定种子生成）";

export async function buildDatabaseTo(
  out: Writable,
  projectRoot: string
): Promise<Omit<SqlIngestResult, "store">> {
  const inputDir = inputDirectory(projectRoot);
  const checks = await loadChecks(projectRoot);
  const {store, ...result} = await ingestSql([inputDir], {
    root: inputDir,
    calendar: calendarPath(projectRoot),
    ...ingestOptions(checks.ingest),
    ...(process.env.FUNDWATCH_TODAY ? {today: process.env.FUNDWATCH_TODAY} : {})
  });
  for (const line of skippedFileLines(result.skippedFiles)) console.error(line);
  for (const f of result.files) {
    console.error(
      `[fundwatch] ${f.file}（${f.dataset}）: 读取 ${f.rows_read} 行，载入 ${f.rows_loaded} 行，拒收 ${f.rows_rejected} 行${f.duplicate_of ? `（与 ${f.duplicate_of} 重复，未读取）` : ""}`
    );
  }
  const source =
    process.env.FUNDWATCH_DATA_SOURCE ?? (process.env.FUNDWATCH_DATA_DIR ? "自定义输入目录" : DEFAULT_SOURCE);
  const dir = await mkdtemp(join(tmpdir(), "fundwatch-"));
  try {
    const previous = await readPreviousBuild(join(projectRoot, "dist", "build.json"));
    const file = join(dir, "fundwatch.duckdb");
    let report: GateReport | undefined;
    await writeDuckDBFile(file, toTables({...result, store}, {source, generatedAt: generationTime()}), {
      conn: store.conn,
      after: async (db) => {
        // The loaded rows are in the file now: the cube gets the work database's memory.
        await store.release();
        await buildCube(db, METRICS);
        report = await checkGates(db, {
          config: checks.gates,
          previous,
          accept: process.env.FUNDWATCH_ACCEPT ?? null,
          configFile: checks.file
        });
        return gateTables(report);
      }
    });
    if (report) {
      console.error(describeGateReport(report));
      // `npm run dev` previews whatever the data is (FUNDWATCH_GATES=warn); the quality page says the gates failed.
      if (report.status === "failed" && process.env.FUNDWATCH_GATES !== "warn")
        throw new Error(gateError(report));
    }
    await pipeline(createReadStream(file), out, {end: false});
  } finally {
    await store.close();
    await rm(dir, {recursive: true, force: true});
  }
  return result;
}

/** How a failed loader starts its message on stderr; scripts/build.ts quotes that block in its error. */
export const LOADER_FAILURE = "[fundwatch] 数据加载失败：";

/**
 * The site's database files: the full one, the small one, and the first one pages fetch first
 * (loaders/core-file.ts).
 */
export interface DatabasePair {
  full: string;
  core: string;
  first: string;
}

/** Where {@link databasePair} keeps the pair: in Framework's cache, which the build clears with every loader output. */
export function pairCacheDir(projectRoot: string): string {
  return join(projectRoot, "reports", ".observablehq", "cache", "fundwatch-db");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes the lock directory `lock` (waiting while a live process holds it); returns its release. */
async function takeLock(lock: string): Promise<() => Promise<void>> {
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, "pid"), String(process.pid));
      return () => rm(lock, {recursive: true, force: true});
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(await readFile(join(lock, "pid"), "utf-8").catch(() => ""));
      // A holder that died (or had not yet written its pid a while ago) leaves the lock to be taken.
      const age = Date.now() - ((await stat(lock).catch(() => null))?.mtimeMs ?? Date.now());
      if ((pid > 0 && !isAlive(pid)) || (!pid && age > 30_000))
        await rm(lock, {recursive: true, force: true});
      else await sleep(200);
    }
  }
}

/**
 * The site's database files for the inputs as they are now, made once for both data loaders
 * (`data/fundwatch.duckdb`, `data/fundwatch-core.duckdb` and `data/fundwatch-first.duckdb`): the first
 * loader to run ingests and writes all three, under a lock; the others find them. They are kept under the loaders' fingerprint
 * (scripts/loader-cache.ts: inputs, code, environment), so a change to any of those makes a new pair.
 *
 * @param projectRoot - the project's root
 * @returns the paths of the full file and the small file
 */
export async function databasePair(projectRoot: string): Promise<DatabasePair> {
  const {hash} = await loaderFingerprint(projectRoot, process.env);
  const root = pairCacheDir(projectRoot);
  const dir = join(root, hash.slice(0, 16));
  const pair = {
    full: join(dir, "fundwatch.duckdb"),
    core: join(dir, "fundwatch-core.duckdb"),
    first: join(dir, "fundwatch-first.duckdb")
  };
  const exists = async () =>
    (await stat(pair.full).catch(() => null)) &&
    (await stat(pair.core).catch(() => null)) &&
    (await stat(pair.first).catch(() => null));
  if (await exists()) return pair;
  await mkdir(root, {recursive: true});
  const release = await takeLock(`${dir}.lock`);
  try {
    if (await exists()) return pair;
    const work = `${dir}.${process.pid}.tmp`;
    await rm(work, {recursive: true, force: true});
    await mkdir(work, {recursive: true});
    try {
      const out = createWriteStream(join(work, "fundwatch.duckdb"));
      await buildDatabaseTo(out, projectRoot);
      await new Promise<void>((resolve, reject) =>
        out.end((error?: Error | null) => (error ? reject(error) : resolve()))
      );
      const {viewed} = await writeCoreFile(
        join(work, "fundwatch.duckdb"),
        join(work, "fundwatch-core.duckdb")
      );
      console.error(`[fundwatch] 首屏小文件：${viewed.join("、")} 留在完整数据文件中`);
      const first = await writeFirstFile(
        join(work, "fundwatch.duckdb"),
        join(work, "fundwatch-core.duckdb"),
        join(work, "fundwatch-first.duckdb")
      );
      console.error(
        `[fundwatch] 首屏文件：${first.viewed.filter((t) => !viewed.includes(t)).join("、")} 留在首屏小文件中`
      );
      await rm(dir, {recursive: true, force: true});
      await rename(work, dir);
    } finally {
      await rm(work, {recursive: true, force: true});
    }
    // Only the pair of the inputs as they are now is kept.
    for (const entry of await readdir(root))
      if (entry !== hash.slice(0, 16) && !entry.endsWith(".lock") && !entry.endsWith(".tmp"))
        await rm(join(root, entry), {recursive: true, force: true});
    return pair;
  } finally {
    await release();
  }
}

/**
 * A site loader's entry point: the database file (`which`: the full one, or the small one pages fetch
 * first) to `out`, or, when the inputs cannot be loaded, the reason on stderr after
 * {@link LOADER_FAILURE} and exit code 1 (so the build fails, saying why).
 */
export async function runDatabaseLoader(
  out: Writable,
  projectRoot: string,
  which: keyof DatabasePair = "full"
): Promise<void> {
  try {
    const pair = await databasePair(projectRoot);
    await pipeline(createReadStream(pair[which]), out, {end: false});
  } catch (error) {
    console.error(`${LOADER_FAILURE}${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}

/**
 * The codes of the city and county-level divisions of the input folder, sorted: one page each for
 * every parameterized page `reports/<folder>/[code].md` (the config's `dynamicPaths`). Only the divisions file is read (all files when no
 * file name says which holds the divisions); a division the full ingest would reject still gets no page.
 */
export async function divisionCodes(projectRoot: string): Promise<string[]> {
  const inputDir = inputDirectory(projectRoot);
  const files = await listInputFiles([inputDir]);
  const named = files.filter((f) => datasetFromFileName(f)?.name === "divisions");
  const {store} = await ingestSql(named.length > 0 ? named : [inputDir], {
    root: inputDir,
    calendar: calendarPath(projectRoot)
  });
  try {
    const rows = (
      await store.conn.runAndReadAll(
        `SELECT code FROM ${store.table("divisions")} WHERE level IN ('市', '县') ORDER BY fw_seq`
      )
    ).getRowObjectsJS() as {code: string}[];
    return rows.map((d) => d.code).sort();
  } finally {
    await store.close();
  }
}
