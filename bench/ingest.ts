/**
 * Part 1 of `npm run bench`: the ingest. Rows per second for each stage (read and decode, normalize
 * and validate, write) and peak memory (RSS), next to native DuckDB reading the same CSVs into a
 * database file of the same storage version as the near-limit baseline, with the ratio.
 *
 * Each run is a child process (bench/ingest-child.ts), so that it starts with a fresh heap and its
 * peak RSS is its own; the modes alternate, so that a slow spell of the machine hits both.
 */
import {spawn} from "node:child_process";
import {mkdir, mkdtemp, rm} from "node:fs/promises";
import {join, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {ratio, summarize, type Summary} from "./stats.js";

export const INGEST_MODES = ["fundwatch", "native"] as const;
export type IngestMode = (typeof INGEST_MODES)[number];

/** What one run prints, as one line of JSON. Times in milliseconds. */
export interface ChildReport {
  mode: IngestMode;
  rows_read: number;
  rows_loaded: number;
  rows_rejected: number;
  csv_bytes: number;
  /** Read, decode, parse the CSV and map its headers; null when not a stage of its own (native). */
  read_ms: number | null;
  /** Normalize and validate every row and the cross-record rules; null when not a stage of its own. */
  validate_ms: number | null;
  /** Read and validate together: native DuckDB does them in one fused pass. */
  read_validate_ms: number;
  /** Write the outputs (native: CHECKPOINT and DETACH). */
  write_ms: number;
  /** From just before the ingest to after the write: no Node or tsx start-up. */
  total_ms: number;
  /** Since the process started. */
  process_ms: number;
  max_rss_bytes: number;
}

/** A run that failed (e.g. out of memory) keeps the end of its stderr. */
export type ChildRun = ChildReport | {error: string};

export const STAGES = ["read", "validate", "read_validate", "write", "total"] as const;
export type Stage = (typeof STAGES)[number];

export interface ModeBench {
  mode: IngestMode;
  /** The Node flags the runs had. */
  node_flags: string[];
  runs: ChildRun[];
  /** Rows read, from the first run that succeeded. */
  rows_read: number | null;
  /** Rows read ÷ the stage's seconds, over the runs that succeeded; null when the mode has no such stage. */
  rows_per_s: Record<Stage, Summary | null>;
  max_rss_bytes: Summary | null;
}

export interface IngestBench {
  data_dir: string;
  csv_bytes: number | null;
  runs: number;
  fundwatch: ModeBench;
  native: ModeBench;
  /**
   * native ÷ fundwatch, of the medians: rows/s (above 1: native is that many times faster) and peak RSS
   * (below 1: native takes that fraction of fundwatch's memory).
   */
  ratio: {
    read_validate_rows_per_s: number | null;
    write_rows_per_s: number | null;
    total_rows_per_s: number | null;
    max_rss_bytes: number | null;
  };
}

export interface IngestBenchOptions {
  /** Runs of each mode (at least 3 for a median and spread). */
  runs?: number;
  /** Where each run's outputs go (a fresh folder per run, deleted after it). */
  workDir: string;
  log?: (line: string) => void;
}

/** Node's own defaults for both: the fundwatch ingest keeps its rows in DuckDB, not in the heap. */
const NODE_FLAGS: Record<IngestMode, string[]> = {
  fundwatch: [],
  native: []
};

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CHILD = fileURLToPath(new URL("./ingest-child.ts", import.meta.url));
const STDERR_TAIL_LINES = 20;

/** Runs each mode `runs` times, alternating, and summarizes; a run that fails is recorded, not thrown. */
export async function benchIngest(
  dataDir: string,
  {runs = 3, workDir, log = () => {}}: IngestBenchOptions
): Promise<IngestBench> {
  const results: Record<IngestMode, ChildRun[]> = {fundwatch: [], native: []};
  for (let i = 1; i <= runs; ++i) {
    for (const mode of INGEST_MODES) {
      const run = await runOnce(mode, resolve(dataDir), resolve(workDir));
      results[mode].push(run);
      log(`ingest ${mode} ${i}/${runs}: ${describeRun(run)}`);
    }
  }
  const fundwatch = summarizeMode("fundwatch", results.fundwatch);
  const native = summarizeMode("native", results.native);
  const stageRatio = (stage: Stage): number | null =>
    ratio(native.rows_per_s[stage], fundwatch.rows_per_s[stage]);
  return {
    data_dir: resolve(dataDir),
    csv_bytes: succeeded([...results.fundwatch, ...results.native])[0]?.csv_bytes ?? null,
    runs,
    fundwatch,
    native,
    ratio: {
      read_validate_rows_per_s: stageRatio("read_validate"),
      write_rows_per_s: stageRatio("write"),
      total_rows_per_s: stageRatio("total"),
      max_rss_bytes: ratio(native.max_rss_bytes, fundwatch.max_rss_bytes)
    }
  };
}

/** One run of `mode` into a fresh output folder, which is deleted afterwards. */
async function runOnce(mode: IngestMode, dataDir: string, workDir: string): Promise<ChildRun> {
  await mkdir(workDir, {recursive: true});
  const outDir = await mkdtemp(join(workDir, `ingest-${mode}-`));
  try {
    return await runChild(mode, dataDir, outDir);
  } finally {
    await rm(outDir, {recursive: true, force: true});
  }
}

function runChild(mode: IngestMode, dataDir: string, outDir: string): Promise<ChildRun> {
  const args = [...NODE_FLAGS[mode], "--import", "tsx", CHILD, mode, dataDir, outDir];
  return new Promise((done) => {
    const child = spawn(process.execPath, args, {cwd: ROOT, stdio: ["ignore", "pipe", "pipe"]});
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = tail(stderr + chunk)));
    child.on("error", (error) => done({error: error.message}));
    child.on("close", (code, signal) =>
      done(code === 0 ? parseReport(stdout, stderr) : {error: tail(`${stderr}\n${exitText(code, signal)}`)})
    );
  });
}

function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  return code === null ? `killed by ${signal ?? "a signal"}` : `exit code ${code}`;
}

/** The last lines of a text. */
function tail(text: string): string {
  return text.trimEnd().split("\n").slice(-STDERR_TAIL_LINES).join("\n");
}

/** The report on the last line of the child's stdout. */
function parseReport(stdout: string, stderr: string): ChildRun {
  const last = stdout.trimEnd().split("\n").pop() ?? "";
  try {
    return JSON.parse(last) as ChildReport;
  } catch {
    return {error: tail(`${stderr}\nno report on stdout: ${last}`)};
  }
}

function succeeded(runs: readonly ChildRun[]): ChildReport[] {
  return runs.filter((run): run is ChildReport => !("error" in run));
}

function stageMs(report: ChildReport, stage: Stage): number | null {
  switch (stage) {
    case "read":
      return report.read_ms;
    case "validate":
      return report.validate_ms;
    case "read_validate":
      return report.read_validate_ms;
    case "write":
      return report.write_ms;
    case "total":
      return report.total_ms;
  }
}

function rowsPerSecond(report: ChildReport, stage: Stage): number | null {
  const ms = stageMs(report, stage);
  return ms === null || ms <= 0 ? null : report.rows_read / (ms / 1000);
}

function summarizeMode(mode: IngestMode, runs: ChildRun[]): ModeBench {
  const reports = succeeded(runs);
  const stageSpread = (stage: Stage): Summary | null =>
    summarize(reports.map((r) => rowsPerSecond(r, stage)));
  return {
    mode,
    node_flags: NODE_FLAGS[mode],
    runs,
    rows_read: reports[0]?.rows_read ?? null,
    rows_per_s: Object.fromEntries(
      STAGES.map((stage) => [stage, stageSpread(stage)])
    ) as ModeBench["rows_per_s"],
    max_rss_bytes: summarize(reports.map((r) => r.max_rss_bytes))
  };
}

function describeRun(run: ChildRun): string {
  if ("error" in run) return `failed: ${run.error.split("\n").pop() ?? ""}`;
  const s = (ms: number | null): string => (ms === null ? "–" : `${(ms / 1000).toFixed(1)} s`);
  const stages = `read ${s(run.read_ms)}, validate ${s(run.validate_ms)}, write ${s(run.write_ms)}`;
  const rss = `${(run.max_rss_bytes / 1e9).toFixed(2)} GB`;
  return `${run.rows_read} rows in ${s(run.total_ms)} (${stages}), read+validate ${s(run.read_validate_ms)}, peak RSS ${rss}`;
}
