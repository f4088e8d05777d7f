/**
 * The browser SQL client: DuckDB-WASM served from the site itself (both the mvp and the eh bundle;
 * `selectBundle` picks eh where the browser supports WebAssembly exceptions), extension auto-loading
 * off, loader outputs attached read-only, values bound as parameters, results converted at the boundary.
 * On the mvp bundle a failed statement is followed by a fresh DuckDB-WASM instance (see
 * {@link restartAfterFailure}): the mvp build cannot catch C++ exceptions, and the connection a
 * statement failed on is left broken.
 */
import * as duckdb from "@duckdb/duckdb-wasm";
import {tableToRows, type Row} from "./convert.js";
import {
  FIRST_VIEW_ID,
  firstViewKey,
  firstViewRows,
  type FirstView,
  type FirstViewQuery,
  type FirstViewStats
} from "./first-view.js";
import {ident, sqlQuery, type SqlQuery, type SqlValue} from "../sql/template.js";
import {closestName, editDistance} from "../metrics/scope.js";
import {CORE_CATALOG, FULL_CATALOG, missingCatalog} from "./split.js";
import {statementCache} from "./statements.js";

// Framework copies these files into the site (dist/_node/...) because of import.meta.resolve.
const BUNDLES: duckdb.DuckDBBundles = {
  mvp: {
    mainModule: import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-mvp.wasm"),
    mainWorker: import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-browser-mvp.worker.js")
  },
  eh: {
    mainModule: import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-eh.wasm"),
    mainWorker: import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-browser-eh.worker.js")
  }
};

/**
 * A query that failed. Its `message` says in Chinese what is wrong (see {@link describeDuckDBError}),
 * then shows the SQL and its bound parameters; DuckDB's own error is its `cause`. Framework shows a
 * failed cell as the text of its error (`String(error)`), and `toString()` is the message alone, so
 * a page shows the Chinese explanation — no English class name, never a stack trace.
 *
 * @param message - what is wrong, in Chinese (usually from {@link describeDuckDBError})
 * @param sql - the SQL text that failed, with `?` placeholders
 * @param params - the values bound to the placeholders, in order
 * @param cause - the error DuckDB threw (default undefined)
 * @example
 * ```ts
 * const error = new QueryError("没有名为「instituions」的表。", "SELECT * FROM instituions", []);
 * error.message; // → "没有名为「instituions」的表。\n\nSQL：SELECT * FROM instituions"
 * String(error); // → "没有名为「instituions」的表。\n\nSQL：SELECT * FROM instituions"
 * new QueryError("查询失败：…", "SELECT ? AS n", [1]).message; // → "查询失败：…\n\nSQL：SELECT ? AS n\n参数：[1]"
 * ```
 */
export class QueryError extends Error {
  /** The SQL text that failed, with `?` placeholders. */
  readonly sql: string;
  /** The values bound to its placeholders. */
  readonly params: readonly SqlValue[];
  constructor(message: string, sql: string, params: readonly SqlValue[], cause?: unknown) {
    const shown = params.length
      ? `\n参数：${JSON.stringify(params, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`
      : "";
    super(`${message}\n\nSQL：${sql}${shown}`, {cause});
    this.name = "QueryError";
    this.sql = sql;
    this.params = params;
  }
  /** The message alone: what Framework shows in the cell of a failed query. */
  override toString(): string {
    return this.message;
  }
}

/** What {@link describeDuckDBError} may use besides the error itself. */
export interface ErrorContext {
  /** The SQL that failed, to quote the line DuckDB points at. */
  sql?: string;
  /** The tables that exist, to list (and pick the closest from) when a table is unknown. */
  tables?: readonly string[];
}

/** DuckDB's message for a table that does not exist (in DuckDB and DuckDB-WASM alike). */
const UNKNOWN_TABLE = /Table with name "?(.+?)"? does not exist(?: because schema "?(.+?)"? does not exist)?/;

const TYPE_NAMES: Record<string, string> = {
  DATE: "日期",
  TIMESTAMP: "时间",
  TIME: "时刻",
  INTERVAL: "时间间隔",
  VARCHAR: "文本",
  STRING_LITERAL: "文本",
  BOOLEAN: "真假值",
  DOUBLE: "小数",
  FLOAT: "小数",
  DECIMAL: "小数"
};

/** A DuckDB type with its Chinese name: `DATE（日期）`, `INT32（整数）`. */
function typeName(type: string): string {
  const t = type.trim();
  const base = t.replace(/\(.*$/, "").toUpperCase();
  const zh = /^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?(\d+)?|INTEGER_LITERAL)$/.test(base)
    ? "整数"
    : TYPE_NAMES[base.startsWith("TIMESTAMP") ? "TIMESTAMP" : base];
  return zh ? `${t}（${zh}）` : t;
}

/** The names in double quotes in one line of DuckDB's message after `label` (its candidates). */
function quotedAfter(text: string, label: string): string[] {
  const at = text.indexOf(label);
  if (at < 0) return [];
  const line = /^[\s:]*([^\n]*)/.exec(text.slice(at + label.length))?.[1] ?? "";
  return [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? "");
}

/** Full-width punctuation typed with a Chinese input method, and what SQL needs instead. */
const FULL_WIDTH: Record<string, string> = {
  "，": ",",
  "（": "(",
  "）": ")",
  "‘": "'",
  "’": "'",
  "“": "'",
  "”": "'",
  "；": ";",
  "：": ":",
  "。": "."
};

/** A hint when `text` contains full-width punctuation, which SQL reads as part of a name. */
function fullWidthHint(text: string): string {
  const found = [...new Set([...text].filter((c) => c in FULL_WIDTH))];
  if (found.length === 0) return "";
  const pairs = found.map((c) => `「${c}」→「${FULL_WIDTH[c]}」`).join("，");
  return `其中有中文标点，SQL 只认英文半角标点：${pairs}（文本值用英文单引号，如 '医院'）。`;
}

const KEYWORDS = [
  "SELECT",
  "FROM",
  "WHERE",
  "GROUP",
  "ORDER",
  "HAVING",
  "LIMIT",
  "OFFSET",
  "JOIN",
  "LEFT",
  "INNER",
  "OUTER",
  "UNION",
  "DISTINCT",
  "BETWEEN",
  "LIKE",
  "CASE",
  "WHEN",
  "THEN",
  "ELSE",
  "END",
  "AND",
  "NOT",
  "NULL",
  "CAST",
  "WITH",
  "DESC",
  "ASC"
];

/** Hints for a syntax error: misspelt keywords in the line, GROUP/ORDER without BY, unbalanced brackets. */
function syntaxHints(line: string | undefined, sql: string | undefined): string[] {
  const hints: string[] = [];
  const bare = (line ?? "").replace(/'(?:[^']|'')*'?|"(?:[^"]|"")*"?/g, " ");
  const seen = new Set<string>();
  for (const m of bare.matchAll(/\b([A-Za-z_]{3,})\b(?!\s*\()/g)) {
    const word = m[1] ?? "";
    const upper = word.toUpperCase();
    if (seen.has(upper) || KEYWORDS.includes(upper)) continue;
    seen.add(upper);
    const keyword = KEYWORDS.find((k) => editDistance(upper, k) === 1);
    if (keyword) hints.push(`「${word}」是不是「${keyword}」？`);
  }
  const noBy = /\b(GROUP|ORDER)\b(?!\s+BY\b)/i.exec(bare);
  if (noBy) hints.push(`「${noBy[1]}」后面要跟「BY」。`);
  if (sql !== undefined) {
    const code = sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*/g, " ");
    const open = (code.match(/\(/g) ?? []).length - (code.match(/\)/g) ?? []).length;
    if (open > 0) hints.push(`左括号比右括号多 ${open} 个。`);
    if (open < 0) hints.push(`右括号比左括号多 ${-open} 个。`);
  }
  const fullWidth = fullWidthHint(line ?? "");
  if (fullWidth) hints.push(fullWidth);
  return hints;
}

/** The line of the SQL DuckDB points at (`LINE n: …`), as `（第 n 行）：…`, and the line itself. */
function locate(text: string, sql: string | undefined): {where: string; line: string} | undefined {
  const m = /LINE (\d+): ([^\n]*)/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const full = sql?.split(/\r?\n/)[n - 1];
  const line = (full !== undefined && full.length <= 160 ? full : (m[2] ?? "")).trim();
  return {where: `（第 ${n} 行）：${line}`, line};
}

/** A Chinese explanation of a DuckDB error, or null when it is not one this knows. */
function explain(text: string, {sql, tables}: ErrorContext): string | null {
  const at = locate(text, sql);
  let m: RegExpExecArray | null;

  const missing = missingCatalog(new Error(text));
  if (missing !== null)
    return `${
      missing === FULL_CATALOG
        ? "这个查询要读检查、问题或处理记录，它们在完整数据文件中，而本数据库没有打开完整数据文件"
        : "这个查询要读按检查日期汇总的表（带日期的筛选），它们在首屏小文件 fundwatch-core 中，而本数据库没有打开它"
    }：请写 openDatabase({fundwatch: [FileAttachment("data/fundwatch-first.duckdb"), FileAttachment("data/fundwatch-core.duckdb"), FileAttachment("data/fundwatch.duckdb")]})，或只用完整文件。`;

  if ((m = UNKNOWN_TABLE.exec(text))) {
    const name = m[1] ?? "";
    const schema = m[2];
    const bare = schema && name.startsWith(`${schema}.`) ? name.slice(schema.length + 1) : name;
    const known = tables ? [...new Set(tables)] : undefined;
    const duckdbGuess = quotedAfter(text, "Did you mean")[0];
    const guess = known
      ? closestName(bare, known)
      : duckdbGuess && !/^(duckdb_|pragma_|sqlite_|information_schema)/.test(duckdbGuess)
        ? duckdbGuess
        : undefined;
    return [
      schema ? `没有名为「${schema}」的数据库，找不到表「${name}」。` : `没有名为「${name}」的表。`,
      guess ? `您是不是要用「${guess}」？` : "",
      fullWidthHint(name),
      known?.length ? `可用的表：${known.join("、")}` : ""
    ].join("");
  }

  const quoteHint = (name: string): string =>
    (sql ?? at?.line ?? "").includes(`"${name}"`)
      ? `如果「${name}」是一个值而不是列名，请用英文单引号：'${name}'（双引号表示列名）。`
      : "";
  const candidates = (): string => {
    const names = quotedAfter(text, "Candidate bindings:");
    return names.length ? `相近的列：${names.join("、")}。` : "";
  };
  if ((m = /Referenced column "(.+?)" not found in FROM clause/.exec(text))) {
    const name = m[1] ?? "";
    const hint = fullWidthHint(name) || quoteHint(name);
    return `没有名为「${name}」的列。${hint || candidates()}`;
  }
  if ((m = /(Table|Values list) "(.+?)" does not have a column named "(.+?)"/.exec(text))) {
    const owner = m[1] === "Table" ? `表「${m[2]}」` : `VALUES 列表「${m[2]}」`;
    return `${owner}没有名为「${m[3]}」的列。${candidates()}`;
  }
  if ((m = /Referenced table "(.+?)" not found/.exec(text))) {
    const names = quotedAfter(text, "Candidate tables:");
    return `「${m[1]}.…」中的「${m[1]}」不是 FROM 里的表名或别名。${names.length ? `可用的：${names.join("、")}。` : ""}`;
  }
  if ((m = /Ambiguous reference to column name "(.+?)"/.exec(text))) {
    const names = quotedAfter(text, "(use:");
    return `列名「${m[1]}」有歧义：不止一个表有这一列，请写明是哪个表的${names.length ? `，如 ${names.join(" 或 ")}` : ""}。`;
  }
  if (
    (m = /column "(.+?)" must appear in the GROUP BY clause or must be part of an aggregate function/.exec(
      text
    ))
  ) {
    return `列「${m[1]}」既不在 GROUP BY 中，也不在聚合函数（sum、count 等）里：请把它加进 GROUP BY，或写成 any_value(${m[1]})。`;
  }

  if (
    (m = /(Scalar |Table |Aggregate |Pragma |Macro )?Function with name "?([^"\s!]+)"? does not exist/.exec(
      text
    ))
  ) {
    const kind = m[1]?.trim() === "Table" ? "表函数" : "函数";
    const guess = quotedAfter(text, "Did you mean")[0];
    return `没有名为「${m[2]}」的${kind}。${guess ? `您是不是要用「${guess}」？` : ""}`;
  }

  if ((m = /syntax error at or near "(.*)"$/m.exec(text))) {
    return [`SQL 语法错误：在「${m[1]}」附近。`, ...syntaxHints(at?.line, sql)].join("");
  }
  if (/syntax error at end of input/.test(text)) {
    const hints = syntaxHints(undefined, sql);
    return [`SQL 语法错误：语句没写完就结束了（末尾缺少内容，或括号、引号没有配对）。`, ...hints].join("");
  }
  if ((m = /unterminated quoted (string|identifier) at or near "(.*)"$/m.exec(text))) {
    return `SQL 语法错误：引号没有配对，从「${m[2]}」开始缺少结束的引号。`;
  }

  if (
    (m =
      /Could not convert string '(.*?)' to ([\w ]+?)(?: when casting from source column "?(.+?)"?)?$/m.exec(
        text
      ))
  ) {
    const value = m[1] ?? "";
    const type = typeName(m[2] ?? "");
    return m[3]
      ? `类型不符：列「${m[3]}」是文本，其中的「${value}」不能转换为 ${type}。文本列请和带引号的文本比较，如 ${m[3]} = '${value}'。`
      : `类型不符：「${value}」不能转换为 ${type}。这里需要数值：数字不要加引号，\${…} 传入的也应是数值而不是文本。`;
  }
  if ((m = /invalid (date|timestamp) field format: "(.*?)"/.exec(text))) {
    return `类型不符：「${m[2]}」不是日期。日期请写作 'YYYY-MM-DD'，例如 '2024-05-15'。`;
  }
  if ((m = /(date|timestamp) field value out of range: "(.*?)"/.exec(text))) {
    return `「${m[2]}」不是存在的日期（月份或日期超出范围）。`;
  }
  if (
    (m = /Cannot compare values of type (.+?) and type (.+?)(?: - an explicit cast is required|$)/m.exec(
      text
    ))
  ) {
    const dates = [m[1], m[2]].some((t) => /^(DATE|TIMESTAMP)/.test(t ?? ""));
    return `类型不符：不能比较 ${typeName(m[1] ?? "")}和 ${typeName(m[2] ?? "")}。${
      dates
        ? "日期请写作带引号的 '2024-05-15' 或 DATE '2024-05-15'。"
        : "请让两边类型一致，必要时用 CAST(x AS 类型)。"
    }`;
  }
  if ((m = /Unimplemented type for cast \((.+?) -> (.+?)\)/.exec(text))) {
    return `类型不符：不能把 ${typeName(m[1] ?? "")}转换为 ${typeName(m[2] ?? "")}。`;
  }
  if ((m = /No function matches the given name and argument types '(.+?)'/.exec(text))) {
    const forms = [...text.matchAll(/^\t(\S.*?) -> /gm)].map((f) => f[1]).slice(0, 6);
    return `函数参数类型不符：不能这样调用 ${m[1]}。${forms.length ? `可用的写法：${forms.join("、")}。` : ""}`;
  }
  if ((m = /Could not choose a best candidate function for the function call "(.+?)"/.exec(text))) {
    return `类型不符：无法确定 ${m[1]} 按哪种类型计算，请用 CAST(x AS 类型) 写明类型。`;
  }
  if (/_setThrew is not defined/.test(text)) {
    return "查询失败：此浏览器所用的 DuckDB 兼容版本（mvp）未能报告出错原因。请检查表名、列名、SQL 语法和值的类型，或在较新的浏览器中打开本页查看具体原因。";
  }
  return null;
}

/**
 * Turns a DuckDB error into a readable Chinese message that names the mistake and how to fix it:
 * an unknown table (with the closest name and the tables there are, when `context.tables` is given),
 * an unknown column (with DuckDB's candidates), a syntax error (with the line and likely misspelt
 * keywords), a value of the wrong type, an unknown function, a query that needs an extension. Where
 * DuckDB gives a position, a second line quotes the line of the SQL. DuckDB's own text follows on the
 * last line (`原始错误：…`); an error this does not know becomes `查询失败：` and DuckDB's text.
 *
 * @param error - what DuckDB threw (an `Error` or its message)
 * @param context - what else is known (default {})
 * @param context.sql - the SQL that failed, to quote the line DuckDB points at (default none: DuckDB's excerpt)
 * @param context.tables - the tables that exist, listed when a table is unknown (default none: DuckDB's guess only)
 * @returns the Chinese message
 * @example
 * ```ts
 * const error = new Error('Catalog Error: Table with name instituions does not exist!\nDid you mean "institutions"?');
 * describeDuckDBError(error, {tables: ["divisions", "institutions"]}).split("\n")[0]; // → "没有名为「instituions」的表。您是不是要用「institutions」？可用的表：divisions、institutions"
 * describeDuckDBError(new Error("Parser Error: syntax error at end of input")).split("\n")[0]; // → "SQL 语法错误：语句没写完就结束了（末尾缺少内容，或括号、引号没有配对）。"
 * describeDuckDBError(new Error("Out of Memory Error: failed to allocate")); // → "查询失败：Out of Memory Error: failed to allocate"
 * ```
 */
export function describeDuckDBError(error: unknown, context: ErrorContext = {}): string {
  const text = error instanceof Error ? error.message : String(error);
  const needs = (name?: string): string =>
    `查询失败：此查询需要 DuckDB 扩展${name ? ` ${name}` : ""}，离线站点不加载任何扩展。原始错误：${text}`;
  const extension =
    /exists in the (\w+) extension/i.exec(text) ?? /requires? the (\w+) extension/i.exec(text);
  if (extension) return needs(extension[1]);
  const explained = explain(text, context);
  if (explained !== null) {
    const at = locate(text, context.sql);
    return `${explained}${at ? `\n位置${at.where}` : ""}\n原始错误：${text}`;
  }
  if (/autoload|extension/i.test(text)) return needs(/extension "?(\w+)"?/i.exec(text)?.[1]);
  return `查询失败：${text}`;
}

/** Where the browser gets the bytes of a database file: a Framework FileAttachment or a URL. */
export type DatabaseSource = {url(): string | Promise<string>} | string;

/**
 * A database as {@link openDatabase} takes it: one file, or the small file first and the full file
 * after it (`[small, full]`, see src/duckdb/split.ts): the full file is fetched only when a query
 * reads a record table; or the first file, the small file and the full file (`[first, small, full]`):
 * the small file too only when a query needs the cube's tables by day.
 */
export type DatabaseSources =
  | DatabaseSource
  | readonly [DatabaseSource, DatabaseSource]
  | readonly [DatabaseSource, DatabaseSource, DatabaseSource];

/** The tagged template pages use: ```sql cells compile to calls of it. */
export type SqlTag = (strings: readonly string[], ...values: readonly unknown[]) => Promise<Row[]>;

export interface FundwatchDatabase {
  /** Runs a tagged-template query; interpolated values are bound parameters. */
  readonly sql: SqlTag;
  /** Runs a {@link SqlQuery}. */
  query(query: SqlQuery): Promise<Row[]>;
  /** The names of the tables in the attached databases. */
  tables(): Promise<string[]>;
  /** Which bundle runs (or will run, while it starts): `"eh"` or `"mvp"`. */
  readonly bundle: string;
  /**
   * Whether the page opened on its default view (no query string) with a pre-baked first view for its
   * files (see {@link openDatabase}): then the first figures come from it, and DuckDB-WASM starts in
   * the background and answers everything else.
   */
  readonly firstView: boolean;
  /** Resolves once DuckDB-WASM has started with the files attached (rejects if a file cannot be read). */
  ready(): Promise<void>;
  /**
   * The underlying DuckDB-WASM instance, for advanced use (on the mvp bundle, a new one after a failed
   * statement). Throws while it is still starting: `await db.ready()` first.
   */
  readonly duckdb: duckdb.AsyncDuckDB;
}

/** One running DuckDB-WASM: the instance, its bundle, and the files attached in it. */
interface Instance {
  db: duckdb.AsyncDuckDB;
  bundle: string;
  /** Schema name → the URL of the file attached under it. */
  attached: Map<string, Promise<string>>;
}

/** Runs statements on an instance that {@link restartAfterFailure} replaces when one fails. */
export interface Restarter<I> {
  /** The instance statements run on now (started on first use). */
  current(): Promise<I>;
  /** Runs `statement` on the current instance; see {@link restartAfterFailure}. */
  run<T>(statement: (instance: I) => Promise<T>): Promise<T>;
  /** How many times an instance has been replaced. */
  restarts(): number;
}

/**
 * Keeps a database instance usable after failed statements: when a statement fails and
 * `restartOn(instance, error)` says so, the instance is replaced — once the statements already running
 * on it have settled, it is stopped and a fresh one started — before the error reaches the caller, so
 * the next statement runs on a working instance. A statement that fails on an instance another
 * failure is already replacing is run once more on the new one (its failure may be the broken
 * instance's, not its own). The SDK uses it for DuckDB-WASM's mvp bundle, which cannot catch C++
 * exceptions: after a failed statement its connection is broken (the next statement fails too, with
 * "_setThrew is not defined"), so the page's database is started again with the same files attached.
 * The instance is started on first use.
 *
 * @param options - how to start, stop and when to replace an instance
 * @param options.start - starts a fresh instance
 * @param options.stop - stops a replaced instance, after its statements settled
 * @param options.restartOn - whether a failure calls for a fresh instance
 * @returns `{current, run, restarts}`
 * @example
 * ```ts
 * let started = 0;
 * const engine = restartAfterFailure({
 *   start: async () => ({n: ++started, broken: false}),
 *   stop: async () => {},
 *   restartOn: () => true
 * });
 * await engine.run(async () => { throw new Error("坏语句"); }).catch((e: Error) => e.message); // → "坏语句"
 * await engine.run(async (instance) => instance.n); // → 2
 * engine.restarts(); // → 1
 * ```
 */
export function restartAfterFailure<I>({
  start,
  stop,
  restartOn
}: {
  start: () => Promise<I>;
  stop: (instance: I) => Promise<void>;
  restartOn: (instance: I, error: unknown) => boolean;
}): Restarter<I> {
  let current: Promise<I> | undefined;
  let restarts = 0;
  /** The statements running on each instance (its promise), which a replacement waits for. */
  const running = new WeakMap<Promise<I>, Set<Promise<unknown>>>();
  const slot = (): Promise<I> => (current ??= start());
  const replace = (old: Promise<I>, instance: I): void => {
    restarts += 1;
    const pending = [...(running.get(old) ?? [])];
    current = (async () => {
      await Promise.allSettled(pending);
      await stop(instance).catch(() => undefined);
      return start();
    })();
  };
  return {
    current: slot,
    restarts: () => restarts,
    async run(statement) {
      for (let attempt = 0; ; attempt++) {
        const used = slot();
        const instance = await used;
        if (used !== current) continue; // replaced while starting: use the new one
        let statements = running.get(used);
        if (!statements) running.set(used, (statements = new Set()));
        const execution = statement(instance);
        statements.add(execution);
        try {
          return await execution;
        } catch (error) {
          if (!restartOn(instance, error)) throw error;
          const first = used === current;
          if (first) replace(used, instance);
          await current?.catch(() => undefined);
          if (!first && attempt === 0) continue;
          throw error;
        } finally {
          statements.delete(execution);
        }
      }
    }
  };
}

/**
 * The bundles to choose from: both, unless the page URL says `?duckdb=mvp` or `?duckdb=eh`
 * (to try the bundle an older intranet browser would get).
 */
function candidateBundles(): duckdb.DuckDBBundles {
  const forced = typeof location === "undefined" ? null : new URLSearchParams(location.search).get("duckdb");
  if (forced === "mvp") return {mvp: BUNDLES.mvp};
  if (forced === "eh" && BUNDLES.eh) return {mvp: BUNDLES.eh};
  return BUNDLES;
}

/**
 * Starts DuckDB-WASM once per page; later calls share the same instance. It runs in a worker, from
 * the site's own files (no CDN), with extension auto-install and auto-load off. Pages rarely need it:
 * {@link openDatabase} calls it.
 *
 * @returns the DuckDB-WASM instance and which bundle runs (`"eh"` or `"mvp"`)
 * @example
 * ```ts
 * // 仅浏览器
 * const {db: wasm, bundle} = await startDuckDB();
 * const conn = await wasm.connect();
 * (await conn.query("SELECT 42 AS answer")).toArray();
 * bundle; // "eh" in current browsers, "mvp" in older ones
 * ```
 */
export async function startDuckDB(): Promise<{db: duckdb.AsyncDuckDB; bundle: string}> {
  const {db, bundle} = await engine.current();
  return {db, bundle};
}

/** The bundle this browser (or the page URL's `?duckdb=`) gets, and its name: `"eh"` or `"mvp"`. */
async function selectedBundle(): Promise<{bundle: duckdb.DuckDBBundle; name: string}> {
  const bundle = await duckdb.selectBundle(candidateBundles());
  return {bundle, name: bundle.mainModule.includes("-eh") ? "eh" : "mvp"};
}

/** Starts a DuckDB-WASM instance in a worker of its own, with nothing attached yet. */
async function launch(): Promise<Instance> {
  const {bundle, name} = await selectedBundle();
  if (!bundle.mainWorker) throw new Error("DuckDB-WASM 资源缺失：找不到 worker 文件");
  const worker = new Worker(bundle.mainWorker, {type: "module"});
  const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
  await db.instantiate(bundle.mainModule);
  await db.open({query: {castDecimalToDouble: true, castBigIntToDouble: false}});
  const conn = await db.connect();
  try {
    // Offline: no extension may be fetched; a query that needs one must fail at once.
    await conn.query("SET autoinstall_known_extensions = false");
    await conn.query("SET autoload_known_extensions = false");
  } finally {
    await conn.close();
  }
  return {db, bundle: name, attached: new Map()};
}

/**
 * The page's DuckDB-WASM, shared by every {@link openDatabase}: on the mvp bundle a failed statement
 * replaces it with a fresh instance (the worker of the old one is ended), and each database attaches
 * its files again in the new one on its next statement.
 */
const engine = restartAfterFailure<Instance>({
  start: launch,
  stop: (instance) => instance.db.terminate(),
  restartOn: (instance) => instance.bundle === "mvp"
});

/** The absolute URL of a source, so the same file written two ways is recognised as one. */
async function sourceUrl(source: DatabaseSource): Promise<string> {
  const url = typeof source === "string" ? source : await source.url();
  return typeof document === "undefined" ? url : new URL(url, document.baseURI).href;
}

/** One query a page made and what DuckDB-WASM answered: the build reruns it in native DuckDB. */
export interface LoggedQuery {
  sql: string;
  params: readonly SqlValue[];
  rows: Row[];
  /** Where the page asked for it: the first stack frame outside the SDK's DuckDB client. */
  caller: string;
  /** The database it ran on: schema name → the absolute URL of the file attached under it. */
  files: Record<string, string>;
}

/**
 * When the page check set `globalThis.__fundwatchQueryLog` to an array (scripts/query-check.ts), each
 * query's SQL, parameters, rows and caller are added to it; otherwise nothing is kept.
 */
function logQuery(
  sql: string,
  params: readonly SqlValue[],
  rows: Row[],
  files: Record<string, string>
): void {
  const log = (globalThis as {__fundwatchQueryLog?: unknown}).__fundwatchQueryLog;
  if (!Array.isArray(log)) return;
  const frames = (new Error().stack ?? "").split("\n").slice(1);
  const caller = frames.find((f) => !/duckdb\/client|_npm\/|_node\//.test(f))?.trim() ?? "";
  (log as LoggedQuery[]).push({sql, params: [...params], rows, caller, files});
}

/** The name of the User Timing measure of every query (DevTools' Performance panel and the benchmark read them). */
export const QUERY_MEASURE = "fundwatch:query";

/** The User Timing measure of each query of the warm-up after a first view (see {@link openDatabase}). */
export const WARM_UP_MEASURE = "fundwatch:warm-up";

/** The User Timing mark set when a database's files are attached in DuckDB-WASM (the benchmark reads it). */
export const DUCKDB_READY_MARK = "fundwatch:duckdb-ready";

/** Records a query's wall time, SQL and parameters as a `performance.measure` (nothing if unsupported). */
function measureQuery(
  start: number,
  sql: string,
  params: readonly SqlValue[],
  name: string = QUERY_MEASURE
): void {
  try {
    performance.measure(name, {start, end: performance.now(), detail: {sql, params}});
  } catch {
    // Old browsers without measure options: timing is a diagnostic, never a failure.
  }
}

/**
 * Attaches a database file under `name`, once per instance: a second call with the same URL reuses it
 * (cells may call openDatabase more than once); a different URL replaces it.
 */
async function attach(
  {db, attached}: Instance,
  conn: duckdb.AsyncDuckDBConnection,
  name: string,
  url: string,
  bytes: () => Promise<Uint8Array>
): Promise<void> {
  const previous = attached.get(name);
  const next = (async () => {
    const before = await previous?.catch(() => undefined);
    if (before === url) return url;
    const schema = ident(name).quoted;
    const fileName = `${name}-${attached.size}-${Date.now()}.duckdb`;
    if (before !== undefined) await conn.query(`DETACH ${schema}`);
    // The worker takes the buffer it is given (it is transferred, and detached here): the page keeps
    // no copy of the file. A restarted instance (mvp bundle) fetches it again, from the browser's cache.
    await db.registerFileBuffer(fileName, await bytes());
    await conn.query(`ATTACH '${fileName.replaceAll("'", "''")}' AS ${schema} (READ_ONLY)`);
    return url;
  })();
  attached.set(name, next);
  await next;
}

/** Runs SQL text with its bound parameters and returns plain rows, throwing DuckDB's own error. */
export type RunSql = (text: string, params: readonly SqlValue[]) => Promise<Row[]>;

/** The query functions of a {@link FundwatchDatabase}. */
export type SqlClient = Pick<FundwatchDatabase, "sql" | "query" | "tables">;

const TABLES_SQL = sqlQuery`SELECT DISTINCT table_name FROM information_schema.tables WHERE table_catalog NOT IN ('system', 'temp', ${FULL_CATALOG}, ${CORE_CATALOG}) ORDER BY table_name`;

/**
 * The query functions of a {@link FundwatchDatabase} over `run`, as {@link openDatabase} makes them
 * over DuckDB-WASM: a failed query throws a {@link QueryError} whose message says in Chinese what is
 * wrong ({@link describeDuckDBError}); for an unknown table it lists the tables there are, read from
 * `information_schema` only then. Tests use it over native DuckDB to go through the page's code path.
 *
 * @param run - runs SQL text with bound parameters and returns plain rows
 * @returns `sql`, `query` and `tables`
 * @example
 * ```ts
 * const client = sqlClient(async (text) => {
 *   if (text.includes("information_schema")) return [{table_name: "divisions"}, {table_name: "institutions"}];
 *   throw new Error("Catalog Error: Table with name instituions does not exist!");
 * });
 * const error = await client.sql`SELECT * FROM instituions`.catch((e: QueryError) => e);
 * error.message.split("\n")[0]; // → "没有名为「instituions」的表。您是不是要用「institutions」？可用的表：divisions、institutions"
 * ```
 */
export function sqlClient(run: RunSql): SqlClient {
  async function query({text, params}: SqlQuery): Promise<Row[]> {
    try {
      return await run(text, params);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      let tables: string[] | undefined;
      if (UNKNOWN_TABLE.test(message)) {
        try {
          tables = [
            ...new Set((await run(TABLES_SQL.text, TABLES_SQL.params)).map((row) => String(row.table_name)))
          ];
        } catch {
          // Listing the tables is a courtesy: the message still names the unknown table.
        }
      }
      throw new QueryError(
        describeDuckDBError(error, {sql: text, ...(tables ? {tables} : {})}),
        text,
        params,
        error
      );
    }
  }
  return {
    sql: (strings, ...values) => query(sqlQuery(strings, ...values)),
    query,
    async tables() {
      return (await query(TABLES_SQL)).map((row) => String(row.table_name));
    }
  };
}

/** What `globalThis.__fundwatchBusy` holds: DuckDB-WASM work under way on the page, and since when none. */
export interface BusyState {
  /** Starts (fetching and attaching the data files) and queries running in DuckDB-WASM now. */
  running: number;
  /** `performance.now()` when the last of them ended (0 if none has). */
  idleSince: number;
}

/**
 * Counts `work` in `globalThis.__fundwatchBusy` while it runs. The page check waits until nothing is
 * running (scripts/check-pages.ts, `settle`): a query that takes long on a loaded machine changes
 * nothing on screen and sends nothing on the network, so without this the check could read a page's
 * figures before its last cells had drawn.
 */
function tracked<T>(work: Promise<T>): Promise<T> {
  const g = globalThis as {__fundwatchBusy?: BusyState};
  const busy = (g.__fundwatchBusy ??= {running: 0, idleSince: 0});
  busy.running += 1;
  const done = (): void => {
    busy.running -= 1;
    if (busy.running === 0) busy.idleSince = performance.now();
  };
  work.then(done, done);
  return work;
}

/** A file of a split database attached only when a query needs it (see {@link openDatabase}). */
interface Later {
  /** The catalog it is attached under: the name the earlier files' views give it. */
  catalog: string;
  url: string;
  attached: boolean;
  attaching?: Promise<void>;
}

/** Each database name opened in this page, with the file it was opened on first. */
const namesInUse = new Map<string, string>();

/** The longest DuckDB-WASM's start waits for the page to draw from its first view, in ms. */
export const START_AT_LATEST_MS = 3000;

/**
 * Resolves once a page drawing from its pre-baked first view has drawn: the document and everything
 * it loads are in (the `load` event), then the browser has been idle once (the cells' first-view
 * answers are drawn by then: they need no network), then a frame has been painted. At most
 * {@link START_AT_LATEST_MS} after it was called. Counted as running work (`__fundwatchBusy`) by the
 * caller, so the page check still waits for DuckDB-WASM to start.
 */
function afterFirstPaint(): Promise<void> {
  // Whichever comes first resolves it (a second resolve does nothing).
  return new Promise((resolve) => {
    setTimeout(resolve, START_AT_LATEST_MS);
    const idle = (): void => {
      const frame = (): void => {
        requestAnimationFrame(() => setTimeout(resolve, 0));
      };
      if (typeof requestIdleCallback === "function") requestIdleCallback(frame, {timeout: 500});
      else setTimeout(frame, 50);
    };
    if (document.readyState === "complete") idle();
    else addEventListener("load", idle, {once: true});
  });
}

function firstViewStats(): FirstViewStats {
  const g = globalThis as {__fundwatchFirstView?: FirstViewStats};
  return (g.__fundwatchFirstView ??= {state: "none", served: 0, computed: 0, failed: 0});
}

/**
 * The page's first view for a database opened on `urls` (schema name → absolute URL), as a map from
 * {@link firstViewKey} to the query, or null: when the page has none, when it was made for other
 * files (a stale page beside new data), or when `globalThis.__fundwatchFirstViewOff` is set (the page
 * check and the tests that compare with it off).
 */
function pageFirstView(urls: readonly (readonly [string, string])[]): Map<string, FirstViewQuery> | null {
  if (typeof document === "undefined") return null;
  const stats = firstViewStats();
  if ((globalThis as {__fundwatchFirstViewOff?: unknown}).__fundwatchFirstViewOff) {
    stats.state = "off";
    return null;
  }
  const element = document.getElementById(FIRST_VIEW_ID);
  if (!element?.textContent) return null;
  let view: FirstView;
  try {
    view = JSON.parse(element.textContent) as FirstView;
  } catch {
    return null;
  }
  const names = Object.keys(view.files ?? {});
  const same =
    view.format === 1 &&
    names.length === urls.length &&
    urls.every(([name, url]) => {
      const path = view.files[name];
      return path !== undefined && new URL(url).pathname.endsWith(`/${path}`);
    });
  if (!same) {
    stats.state = "stale";
    return null;
  }
  stats.state = "on";
  return new Map(view.queries.map((q) => [firstViewKey(q.sql, q.params), q]));
}

/**
 * Opens DuckDB-WASM with the given database files attached read-only, each under its key as schema
 * name; the first becomes the default schema. Files are fetched whole (not range-read) so a reload
 * can never mix old and new bytes. Values written as `${value}` in `db.sql` are bound parameters.
 * A failed query throws a {@link QueryError} with a Chinese message naming the mistake (unknown table
 * or column, syntax error, wrong type …), which the page shows in place of the cell. On the mvp bundle
 * (older browsers) a failed query also restarts DuckDB-WASM with the same files attached (the mvp build
 * cannot recover from an error by itself; see {@link restartAfterFailure}), so the next query works.
 *
 * **The pre-baked first view.** When the page carries one for these files (`npm run build` writes it,
 * scripts/first-view.ts: each query the page makes for its default view, answered at build time by
 * native DuckDB over the same file, keyed by SQL text, parameters and the file's content-hashed path),
 * this returns at once: a query whose SQL and parameters are in it is answered from it, while
 * DuckDB-WASM starts in the background and answers every other query (it waits for the start). A page
 * whose URL has a query string (another filter, `?duckdb=mvp`) never uses it. `globalThis.__fundwatchFirstView`
 * counts the queries served and computed.
 *
 * **The small file first.** A database given as `[small, full]` is opened on the small file: the cube
 * and the small tables, with the record tables (inspections, findings, dispositions, rejects, warnings)
 * as views on the full file (loaders/core-file.ts). The full file is fetched and attached beside it
 * only when a query first reads one of them (DuckDB's binder says so, src/duckdb/split.ts), and the
 * query runs again: the answers are those of the full file, always. The site's pages give three,
 * `[FileAttachment("data/fundwatch-first.duckdb"), FileAttachment("data/fundwatch-core.duckdb"),
 * FileAttachment("data/fundwatch.duckdb")]`: the first file is the small one without the cube's tables
 * by day, which are views on the small file, fetched and attached the same way when a query with a date
 * first needs one.
 *
 * @param sources - schema name → database file (a Framework `FileAttachment` or a URL), or
 *   `[small, full]`, or `[first, small, full]`
 * @returns the page's database: `sql` (for ```sql cells), `query`, `tables()`, `bundle`, `firstView`, `ready()`, `duckdb`
 * @example
 * ```ts
 * // 仅浏览器
 * // In a page: openDatabase({fundwatch: FileAttachment("data/fundwatch.duckdb")})
 * const fw = await openDatabase({fundwatch: "/_file/data/fundwatch.duckdb"});
 * const kind = "医院";
 * const rows = await fw.sql`SELECT count(*) AS n FROM institutions WHERE kind = ${kind}`;
 * rows[0]?.n; // a number, never a BigInt
 * await fw.sql`SELECT * FROM instituions`; // throws QueryError: 没有名为「instituions」的表。您是不是要用「institutions」？…
 * ```
 */
export async function openDatabase(sources: Record<string, DatabaseSources>): Promise<FundwatchDatabase> {
  const entries = await Promise.all(
    Object.entries(sources).map(async ([name, source]) => {
      const list: readonly DatabaseSource[] = Array.isArray(source) ? source : [source as DatabaseSource];
      if (list.length < 1 || list.length > 3)
        throw new Error(
          `数据库 ${name} 应为一个数据文件，或 [首屏小文件, 完整文件] 两个，或 [首屏文件, 首屏小文件, 完整文件] 三个：实为 ${list.length} 个`
        );
      const [first, ...rest] = await Promise.all(list.map(sourceUrl));
      if (first === undefined) throw new Error(`数据库 ${name} 没有数据文件`);
      // `url` is the file attached first; `later`, for a split database, those attached when needed,
      // each under the catalog the earlier files' views name.
      const catalogs = rest.length === 2 ? [CORE_CATALOG, FULL_CATALOG] : [FULL_CATALOG];
      const later: Later[] = rest.map((url, i) => ({
        catalog: catalogs[i] ?? FULL_CATALOG,
        url,
        attached: false
      }));
      return {name, url: first, later};
    })
  );
  // One name, one file per page: the page's databases share one DuckDB-WASM, where a second file under
  // a name already attached would replace the first under the other database's queries.
  for (const {name, url} of entries) {
    const known = namesInUse.get(name);
    if (known !== undefined && known !== url)
      throw new Error(
        `本页已用名称「${name}」打开了另一个数据文件（${known}）：同一页面中的数据库应各用一个名称，例如 openDatabase({${name}2: …})`
      );
  }
  for (const {name, url} of entries) namesInUse.set(name, url);
  const splits = entries.filter((e) => e.later.length > 0);
  if (splits.length > 1)
    throw new Error(`只能有一个数据库分为首屏小文件和完整文件：${splits.map((e) => e.name).join("、")}`);
  // Each database is known by its full file: the query log, the page check and the first view name it
  // (the small file holds the same tables, or views on the full file's).
  const urls = entries.map(({name, url, later}) => [name, later.at(-1)?.url ?? url] as const);
  const fileUrls = Object.fromEntries(urls);
  const later = splits[0]?.later ?? [];
  const firstView = pageFirstView(urls);
  const stats = firstViewStats();
  const selected = await selectedBundle();
  let latest: Instance | undefined;
  // Each file's bytes, fetched once and handed to the first instance that attaches it; fetched again
  // (from the browser's cache: the files are content-hashed) only for an instance started after a failure.
  type File = {name: string; url: string; bytes: () => Promise<Uint8Array>; release: () => void};
  const fetchFile = async (name: string, url: string): Promise<File> => {
    const read = async (): Promise<Uint8Array> => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`数据文件 ${name} 读取失败：HTTP ${response.status}（${url}）`);
      return new Uint8Array(await response.arrayBuffer());
    };
    let first: Uint8Array | undefined = await read();
    const bytes = async (): Promise<Uint8Array> => {
      const held = first;
      first = undefined;
      return held ?? read();
    };
    return {name, url, bytes, release: () => (first = undefined)};
  };
  // The files attached, in order: each database's first file (the first in use), then the full file
  // once a query needed it. A restarted instance attaches them all again.
  const files: File[] = [];
  // This database's connection in each instance, with its files attached and the first one in use.
  const connections = new WeakMap<Instance, Promise<duckdb.AsyncDuckDBConnection>>();
  const connection = (instance: Instance): Promise<duckdb.AsyncDuckDBConnection> => {
    let conn = connections.get(instance);
    if (!conn) {
      conn = (async () => {
        const c = await instance.db.connect();
        for (const [i, {name, url, bytes}] of files.entries()) {
          await attach(instance, c, name, url, bytes);
          if (i === 0) await c.query(`USE ${ident(name).quoted}`);
        }
        return c;
      })();
      connections.set(instance, conn);
    }
    return conn;
  };
  const start = async (): Promise<void> => {
    const [, fetched] = await Promise.all([
      engine.current(),
      Promise.all(entries.map(({name, url}) => fetchFile(name, url)))
    ]);
    files.push(...fetched);
    // Attach now, so that a missing or broken file fails here. Then the page lets go of the bytes (a
    // file this instance had attached already, for another openDatabase of the page, was not taken).
    await engine.run(async (instance) => {
      latest = instance;
      await connection(instance);
    });
    for (const file of fetched) file.release();
    try {
      performance.mark(DUCKDB_READY_MARK);
    } catch {
      // Timing is a diagnostic only.
    }
  };
  let starting: Promise<void> | undefined;
  const started = (): Promise<void> => (starting ??= tracked(start()));
  // A later file (the full file, or the small one behind a first file), attached under the catalog the
  // earlier files' views name when a query first needs it; once, unless it failed (then the next such
  // query tries again).
  const attachLater = (file: Later): Promise<void> =>
    (file.attaching ??= (async () => {
      await started();
      const fetched = await fetchFile(file.catalog, file.url);
      files.push(fetched);
      await engine.run(async (instance) => {
        latest = instance;
        // A fresh instance (after a failure on the mvp bundle) attaches every file, this one too.
        await attach(instance, await connection(instance), file.catalog, file.url, fetched.bytes);
      });
      fetched.release();
      file.attached = true;
    })().catch((error: unknown) => {
      file.attaching = undefined;
      const at = files.findIndex((f) => f.name === file.catalog);
      if (at >= 0) files.splice(at, 1);
      throw error;
    }));
  // The first view answers the page's default view: only a page opened without a query string
  // (another filter, `?duckdb=mvp`) uses it, decided once here. Later URL changes do not matter: the
  // page's own syncUrl may write its default parameters, and an answer keyed by SQL text and
  // parameters is the right one whatever the URL says (another filter has other parameters).
  const baked = firstView !== null && location.search === "" ? firstView : null;
  if (baked) {
    // The page draws from its first view at once; DuckDB-WASM starts in the background for what
    // comes after (a failure there is reported by the first query that needs it), once the page
    // has drawn: its wasm and data file would otherwise share the link with the page's own modules
    // and hold back the first paint. A query the first view does not hold starts it at once.
    // Started, it warms up (see warmUp below).
    tracked(afterFirstPaint()).then(
      () => tracked(started().then(() => warmUp([...baked.values()]))).catch(() => undefined),
      () => undefined
    );
  } else await started();

  // Each connection's prepared statements, kept by SQL text: a filter change asks the same SQL with
  // other values (src/duckdb/statements.ts).
  const prepared = new WeakMap<duckdb.AsyncDuckDBConnection, ReturnType<typeof statementsOf>>();
  const statementsOf = (conn: duckdb.AsyncDuckDBConnection) =>
    statementCache((text: string) => conn.prepare(text));
  const once = async (text: string, params: readonly SqlValue[], measure = QUERY_MEASURE): Promise<Row[]> => {
    await started();
    return engine.run(async (instance) => {
      latest = instance;
      const conn = await connection(instance);
      const begin = performance.now();
      try {
        let rows: Row[];
        if (params.length === 0) rows = tableToRows(await conn.query(text));
        else {
          let statements = prepared.get(conn);
          if (!statements) prepared.set(conn, (statements = statementsOf(conn)));
          rows = tableToRows(await statements.use(text, (statement) => statement.query(...params)));
        }
        logQuery(text, params, rows, fileUrls);
        return rows;
      } finally {
        measureQuery(begin, text, params, measure);
      }
    });
  };
  // A query that reads a table of a later file (a record table; with three files, a table of the cube
  // by day) fails to bind until that file is there: then it is attached and the query runs again
  // (DuckDB's binder names the catalog, see src/duckdb/split.ts). The mvp bundle reports no error's
  // cause: there any failure attaches the next file not yet attached and runs the query again, until
  // all are (a query wrong in itself fails again, saying so).
  const computed: RunSql = async (text, params) => {
    for (;;) {
      try {
        return await once(text, params);
      } catch (error) {
        const named = missingCatalog(error);
        const pending = later.filter((f) => !f.attached);
        const next =
          named !== null
            ? pending.find((f) => f.catalog === named)
            : latest?.bundle === "mvp"
              ? pending[0]
              : undefined;
        if (next === undefined) throw error;
        await attachLater(next);
      }
    }
  };
  const run: RunSql = async (text, params) => {
    const answer = baked?.get(firstViewKey(text, params));
    if (answer) {
      stats.served += 1;
      return firstViewRows(answer);
    }
    stats.computed += 1;
    try {
      return await tracked(computed(text, params));
    } catch (error) {
      stats.failed += 1;
      throw error;
    }
  };

  // The warm-up: behind a first view, DuckDB-WASM has answered nothing when the reader first changes
  // a filter, so that change would also pay for reading the cube's tables into DuckDB's memory and
  // preparing every statement. Once started, it runs the first view's queries itself, one after
  // another in the background (a reader's query waits for one of them at most): the same SQL texts a
  // filter change asks with other values, prepared and kept (src/duckdb/statements.ts), their tables
  // read. Not on the mvp bundle, where a failed statement restarts DuckDB-WASM: a query that reads the
  // full file fails there until it is attached, and the warm-up never fetches it (it skips such a
  // query on the eh bundle). Measured as fundwatch:warm-up, not as the page's queries.
  async function warmUp(queries: readonly FirstViewQuery[]): Promise<void> {
    for (const {sql, params} of queries) {
      if (latest?.bundle !== "eh") return;
      await once(sql, params, WARM_UP_MEASURE).catch(() => undefined);
    }
  }

  return {
    ...sqlClient(run),
    bundle: selected.name,
    firstView: baked !== null,
    async ready() {
      await started();
    },
    get duckdb() {
      if (!latest) throw new Error("DuckDB-WASM 还在后台启动：先 await db.ready()");
      return latest.db;
    }
  };
}
