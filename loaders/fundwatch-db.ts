/**
 * The site's data loader: ingests the input folder (the embedded default data, or the folder named by
 * FUNDWATCH_DATA_DIR), writes the database file to a temporary folder and copies its bytes to the
 * loader's stdout. Logs go to stderr; a structural problem in the inputs, or a completeness gate that
 * fails (loaders/gates.ts, compared with the published dist/build.json) without the administrator's
 * `FUNDWATCH_ACCEPT` reason, fails the loader (and the build).
 */
import {createReadStream} from "node:fs";
import {mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import {pipeline} from "node:stream/promises";
import type {Writable} from "node:stream";
import {calendarPath} from "./calendar.js";
import {ingestOptions, loadChecks} from "./checks-config.js";
import {writeDuckDBFile} from "./duckdb-file.js";
import {buildCube, METRICS} from "../src/metrics/index.js";
import {
  checkGates,
  describeGateReport,
  gateError,
  gateTables,
  readPreviousBuild,
  type GateReport
} from "./gates.js";
import {datasetFromFileName, ingest, listInputFiles, skippedFileLines, type IngestResult} from "./ingest.js";
import {generationTime, toTables} from "./outputs.js";

/** The default input folder, or the one `FUNDWATCH_DATA_DIR` names. */
export function inputDirectory(projectRoot: string): string {
  return resolve(projectRoot, process.env.FUNDWATCH_DATA_DIR ?? join("data", "ningxia"));
}

export const DEFAULT_SOURCE =
  "宁夏回族自治区 2024 年打击欺诈骗保专项整治行动（示例数据，由 npm run gen:data 按固定种子生成）";

export async function buildDatabaseTo(out: Writable, projectRoot: string): Promise<IngestResult> {
  const inputDir = inputDirectory(projectRoot);
  const checks = await loadChecks(projectRoot);
  const result = await ingest([inputDir], {
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
  const previous = await readPreviousBuild(join(projectRoot, "dist", "build.json"));
  const dir = await mkdtemp(join(tmpdir(), "fundwatch-"));
  try {
    const file = join(dir, "fundwatch.duckdb");
    let report: GateReport | undefined;
    await writeDuckDBFile(file, toTables(result, {source, generatedAt: generationTime()}), {
      after: async (db) => {
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
    await rm(dir, {recursive: true, force: true});
  }
  return result;
}

/** How a failed loader starts its message on stderr; scripts/build.ts quotes that block in its error. */
export const LOADER_FAILURE = "[fundwatch] 数据加载失败：";

/**
 * The site loader's entry point: the database file to `out`, or, when the inputs cannot be loaded, the
 * reason on stderr after {@link LOADER_FAILURE} and exit code 1 (so the build fails, saying why).
 */
export async function runDatabaseLoader(out: Writable, projectRoot: string): Promise<void> {
  try {
    await buildDatabaseTo(out, projectRoot);
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
  const result = await ingest(named.length > 0 ? named : [inputDir], {
    root: inputDir,
    calendar: calendarPath(projectRoot)
  });
  return (result.tables.get("divisions") ?? [])
    .filter((d) => d.level === "市" || d.level === "县")
    .map((d) => String(d.code))
    .sort();
}
