/**
 * `npm run ingest -- <files or folders> --out <dir> [--today YYYY-MM-DD] [--source 说明] [--calendar 节假日.csv]
 *   [--checks fundwatch.checks.json] [--previous dist/build.json] [--accept 原因]`
 *
 * Runs the same ingest as the site's data loader on any input (files, folders, or one worksheet of a
 * workbook as `报表.xlsx#工作表`), with the holiday calendar data/节假日.csv (or `--calendar`), writes <dir>/fundwatch.duckdb,
 * rejects.csv, warnings.csv and summary.json as one set (a staging folder renamed to <dir>), and prints
 * the JSON summary (per file: rows read, loaded, rejected, reasons by count, and the completeness gates'
 * verdict, `gates`, against the last published build, dist/build.json or `--previous`). The limits and
 * gates come from fundwatch.checks.json (or `--checks`). Exit code 0 when the inputs could be read and
 * passed the gates (rejected rows are listed, not fatal); 1 on a structural problem (each listed);
 * 2 on a usage error or an output folder that holds other files; 3 when a completeness gate failed
 * (the outputs are written all the same, to look at; `--accept 原因` records an accepted exception).
 */
import {buildCube, METRICS} from "../src/metrics/index.js";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {ingestOptions, loadChecks} from "../loaders/checks-config.js";
import {
  checkGates,
  describeGateReport,
  readPreviousBuild,
  gateTables,
  type GateReport
} from "../loaders/gates.js";
import {IngestError, skippedFileLines} from "../loaders/ingest.js";
import {ingestSql} from "../loaders/ingest-sql.js";
import {
  checkOutputDir,
  generationTime,
  OutputDirError,
  summaryJson,
  totalsOf,
  writeOutputs
} from "../loaders/outputs.js";

const USAGE =
  "用法：npm run ingest -- <文件或目录…> --out <输出目录> [--today YYYY-MM-DD] [--source 数据来源] [--calendar 节假日表.csv] [--checks 配置.json] [--previous build.json] [--accept 原因]\n（指定工作表：报表.xlsx#工作表名）";
const OPTIONS = ["--out", "--today", "--source", "--calendar", "--checks", "--previous", "--accept"];
const PROJECT = fileURLToPath(new URL("../", import.meta.url));

function parseArgs(argv: string[]): {
  paths: string[];
  out: string;
  today?: string;
  source?: string;
  calendar?: string;
  checks?: string;
  previous?: string;
  accept?: string;
} {
  const paths: string[] = [];
  const options: Record<string, string> = {};
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i] ?? "";
    if (arg.startsWith("--")) {
      const value = argv[i + 1];
      if (!OPTIONS.includes(arg) || value === undefined)
        throw new Error(`${USAGE}\n不认识的参数或缺少取值：${arg}`);
      options[arg.slice(2)] = value;
      ++i;
    } else paths.push(arg);
  }
  if (paths.length === 0 || !options.out) throw new Error(USAGE);
  return {
    paths,
    out: options.out,
    ...(options.today ? {today: options.today} : {}),
    ...(options.source ? {source: options.source} : {}),
    ...(options.calendar ? {calendar: options.calendar} : {}),
    ...(options.checks ? {checks: options.checks} : {}),
    ...(options.previous ? {previous: options.previous} : {}),
    ...(options.accept ? {accept: options.accept} : {})
  };
}

let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs(process.argv.slice(2));
  // Before the ingest: the outputs replace the folder as a whole, so one holding other files is refused.
  await checkOutputDir(args.out);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}

try {
  const checks = args.checks ? await loadChecks(process.cwd(), args.checks) : await loadChecks(PROJECT);
  // `--previous none`: check a submission on its own, with no comparison with a published build.
  const previous =
    args.previous === "none"
      ? null
      : await readPreviousBuild(args.previous ?? join(PROJECT, "dist", "build.json"));
  const result = await ingestSql(args.paths, {
    ...ingestOptions(checks.ingest),
    ...(args.today ? {today: args.today} : {}),
    ...(args.calendar ? {calendar: args.calendar} : {})
  });
  let gates: GateReport | undefined;
  try {
    await writeOutputs(
      args.out,
      result,
      {source: args.source ?? args.paths.join("、"), generatedAt: generationTime()},
      {
        // The same gates as the site's loader, against the same last published build.
        after: async (db) => {
          // The same database as the site's loader writes: the detail tables and the cube (which gets
          // the work database's memory once the loaded rows are in the file).
          await result.store.release();
          await buildCube(db, METRICS);
          gates = await checkGates(db, {
            config: checks.gates,
            previous,
            accept: args.accept ?? null,
            configFile: checks.file
          });
          return gateTables(gates);
        },
        summaryExtra: () => (gates ? {gates} : {})
      }
    );
  } finally {
    await result.store.close();
  }
  console.log(JSON.stringify({...summaryJson(result), ...(gates ? {gates} : {})}, null, 2));
  const t = totalsOf(result.files);
  for (const line of skippedFileLines(result.skippedFiles)) console.error(line);
  console.error(
    `[fundwatch] ${result.files.length} 个文件：读取 ${t.rows_read} 行，载入 ${t.rows_loaded} 行，拒收 ${t.rows_rejected} 行，警告 ${result.warnings.length} 条${result.skippedFiles.length > 0 ? `，未读取 ${result.skippedFiles.length} 个文件` : ""}；数据截至 ${result.asOf ?? "—"}（${result.asOfNote}）；输出目录 ${args.out}`
  );
  if (gates) {
    console.error(describeGateReport(gates));
    if (gates.status === "failed") process.exit(3);
  }
} catch (error) {
  if (error instanceof IngestError) {
    // What was read before the ingest stopped, so the office sees the other files' state too.
    const {files, skippedFiles} = error.partial;
    console.log(JSON.stringify({errors: error.problems, files, skipped_files: skippedFiles}, null, 2));
    for (const line of skippedFileLines(skippedFiles)) console.error(line);
    console.error(error.message);
    process.exit(1);
  }
  if (error instanceof OutputDirError) {
    console.error(error.message);
    process.exit(2);
  }
  // Never a bare stack trace: say in Chinese what happened, then the details (a full disk, a bug ...).
  console.log(
    JSON.stringify({errors: [`意外错误：${error instanceof Error ? error.message : String(error)}`]}, null, 2)
  );
  console.error(
    `[fundwatch] 检查程序出现意外错误，未生成完整的输出（请把以下信息报告给维护者）：\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}`
  );
  process.exit(1);
}
