/**
 * `npm run ingest -- <files or folders> --out <dir> [--today YYYY-MM-DD] [--source 说明]`
 *
 * Runs the same ingest as the site's data loader on any input (files, folders, or one worksheet of a
 * workbook as `报表.xlsx#工作表`), writes <dir>/fundwatch.duckdb,
 * rejects.csv, warnings.csv and summary.json, and prints the JSON summary (per file: rows read,
 * loaded, rejected, reasons by count). Exit code 0 when the inputs could be read (rejected rows are
 * listed, not fatal); 1 on a structural problem (each listed), 2 on a usage error.
 */
import {ingest, IngestError} from "../loaders/ingest.js";
import {generationTime, summaryJson, totalsOf, writeOutputs} from "../loaders/outputs.js";

const USAGE =
  "用法：npm run ingest -- <文件或目录…> --out <输出目录> [--today YYYY-MM-DD] [--source 数据来源]\n（指定工作表：报表.xlsx#工作表名）";

function parseArgs(argv: string[]): {paths: string[]; out: string; today?: string; source?: string} {
  const paths: string[] = [];
  const options: Record<string, string> = {};
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i] ?? "";
    if (arg.startsWith("--")) {
      const value = argv[i + 1];
      if (!["--out", "--today", "--source"].includes(arg) || value === undefined)
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
    ...(options.source ? {source: options.source} : {})
  };
}

let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}

try {
  const result = await ingest(args.paths, args.today ? {today: args.today} : {});
  await writeOutputs(args.out, result, {
    source: args.source ?? args.paths.join("、"),
    generatedAt: generationTime()
  });
  console.log(JSON.stringify(summaryJson(result), null, 2));
  const t = totalsOf(result.files);
  console.error(
    `[fundwatch] ${result.files.length} 个文件：读取 ${t.rows_read} 行，载入 ${t.rows_loaded} 行，拒收 ${t.rows_rejected} 行，警告 ${result.warnings.length} 条；输出目录 ${args.out}`
  );
} catch (error) {
  if (error instanceof IngestError) {
    console.log(JSON.stringify({errors: error.problems}, null, 2));
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
