/**
 * Row-level steps of the ingest as SQL over a parsed table (loaders/sql-cells.ts): what
 * loaders/ingest.ts does per row in JS, written beside it as SQL twins and tested against it
 * (test/unit/sql-rows.test.ts). Used by the ingest (./ingest-sql.ts) for every staged CSV.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import type {Column, Dataset} from "../src/schema/dataset.js";
import {isMissing, parseAmountFen, parseCount, cellText} from "../src/parse/values.js";
import {formatMoney} from "../src/format/money.js";
import {NOTE_ROW, TOTAL_ROW, classifyRow, type Mapping, type RowLimits} from "./ingest.js";
import {literal, quote, textOfBytes} from "./duckdb-file.js";
import {parseColumns} from "./sql-cells.js";
import {JS_SPACE_CLASS, PLAIN_ID} from "../src/parse/values-sql.js";
import type {StagedCsv} from "./sources/csv-stage.js";

/** The macro for money in 元 as `formatMoney(fen, {unit: "元"})` writes it: `12,345.67元`. */
export const ROW_MACROS = `
CREATE OR REPLACE TEMP MACRO fw_money_yuan(v) AS
  CASE WHEN v < 0 THEN '-' ELSE '' END || format('{:,}', abs(CAST(v AS HUGEINT)) // 100) || '.'
  || lpad(CAST(abs(CAST(v AS HUGEINT)) % 100 AS VARCHAR), 2, '0') || '元';
`;

/** An issue of a range rule, as SQL: NULL, or a STRUCT `{reason, reason_en, rule}`. */
export interface RangeSql {
  /** Rejects the row (amount above the ceiling, date before the earliest). */
  reject: string;
  /** Warns and keeps the row (amount at or above the implausibility threshold). */
  warn: string;
}

/**
 * The range rules of one column (`rangeIssues` in ./ingest.ts) over its parsed value `v` (SQL: HUGEINT
 * fen for money, DATE for dates; NULL when the cell did not parse, which no rule looks at). The limits
 * are the ingest's options, checked before (integers, an ISO date), written as literals.
 */
export function rangeSql(col: Column, v: string, limits: RowLimits): RangeSql {
  const none = "CAST(NULL AS STRUCT(reason VARCHAR, reason_en VARCHAR, rule VARCHAR))";
  const issue = (reason: string, reasonEn: string, rule: string) =>
    `{'reason': ${reason}, 'reason_en': ${reasonEn}, 'rule': ${literal(rule)}}`;
  if (col.duck === "BIGINT") {
    const reject = `CAST(${limits.rejectAboveFen.toString()} AS HUGEINT)`;
    const warn = `CAST(${limits.warnAboveFen.toString()} AS HUGEINT)`;
    return {
      reject: `CASE WHEN ${v} > ${reject} THEN ${issue(
        `'金额过大：' || fw_money_yuan(${v}) || '，超过上限 ' || fw_money_yuan(${reject}) || '（可能多输了位数，或单位有误，如把元写成万元）'`,
        literal(`amount above the ceiling of ${limits.rejectAboveFen} fen`),
        "amount-ceiling"
      )} ELSE ${none} END`,
      warn: `CASE WHEN ${v} <= ${reject} AND ${v} >= ${warn} THEN ${issue(
        `'金额异常大：' || fw_money_yuan(${v}) || '，达到核对线 ' || fw_money_yuan(${warn}) || '，请核对位数和单位'`,
        literal(`implausibly large amount (at or above ${limits.warnAboveFen} fen)`),
        "amount-implausible"
      )} ELSE ${none} END`
    };
  }
  if (col.duck === "DATE") {
    const earliest = `CAST(${literal(limits.earliestDate)} AS DATE)`;
    return {
      reject: `CASE WHEN ${v} < ${earliest} THEN ${issue(
        `${literal(`日期早于 ${limits.earliestDate}：`)} || strftime(${v}, '%Y-%m-%d') || '（1900-01-01、1899-12-30、1899-12-31 是 Excel 的“零日期”，多为空单元格或 0 被设成了日期格式）'`,
        literal(`date before ${limits.earliestDate}`),
        "date-too-early"
      )} ELSE ${none} END`,
      warn: none
    };
  }
  return {reject: none, warn: none};
}

export interface StagedFile {
  /** The file as issues name it. */
  file: string;
  /** What stageCsv said of it. */
  staged: StagedCsv;
  /** The staged table (`line`, `c0…`, `rest`). */
  table: string;
  dataset: Dataset;
  mapping: Mapping;
  /** Squashed alias → division code (the ingest's alias table). */
  aliases: ReadonlyMap<string, string>;
  limits: RowLimits;
}

export interface StagedFileResult {
  rowsRead: number;
  rowsSkipped: number;
  rowsLoaded: number;
  /** Structural problems (合计 rows that disagree or cannot be read), as the ingest words them. */
  problems: string[];
}

/**
 * `parseFile` of loaders/ingest.ts over a staged CSV, in DuckDB: creates `fw_rejects` and `fw_warnings`
 * (`line, ord, column, value, reason, reason_en, rule`: ordered by line and `ord` they are in the JS
 * order) and `fw_loaded` (`line` and the dataset's fields, typed). Row kinds of rows with a text outside
 * the SQL's NFKC table, and the 合计 rows' own figures (a few rows), are judged in JS by the ingest's
 * functions. Needs VALUE_MACROS and ROW_MACROS on `conn`.
 */
export async function parseStagedFile(conn: DuckDBConnection, input: StagedFile): Promise<StagedFileResult> {
  const {staged, table, dataset: ds, mapping, aliases, limits} = input;
  const width = staged.headers.length;
  const cols = Array.from({length: width}, (_, i) => `c${i}`);
  const all = `(${width > 0 ? `[${cols.join(", ")}] || ` : ""}rest)`;
  const fields = Object.entries(ds.columns) as [string, Column][];

  // A view, not a copy: the staged table with an always-NULL column for fields the file lacks.
  await conn.run(
    `CREATE OR REPLACE TEMP VIEW fw_src AS SELECT *, CAST(NULL AS VARCHAR) AS fw_absent FROM ${table}`
  );
  await parseColumns(conn, {
    source: "fw_src",
    target: "fw_cells",
    columns: fields.map(([field, col]) => {
      const mapped = mapping.fields.get(field);
      return {
        field,
        col,
        raw: mapped ? `c${mapped.index}` : "fw_absent",
        ctx: {unit: mapped?.unit ?? "元", date1904: false}
      };
    }),
    keep: ["line", ...cols, "rest"],
    divisionAliases: aliases
  });

  // A row whose first cell is a plain id is data (its first filled cell is that id, which is neither
  // 合计 nor a note): most rows, told from that cell alone.
  const plainFirst = width > 0 ? `(c0 IS NOT NULL AND regexp_full_match(c0, '${PLAIN_ID}'))` : "false";
  // Row kinds the SQL cannot judge (a text outside its NFKC table): classifyRow, once per such row.
  const cut = staged.truncated;
  const odd = await conn.runAndReadAll(
    `SELECT line, [encode(c) FOR c IN ${all}] AS cells FROM fw_cells
     WHERE NOT ${plainFirst} AND list_bool_or([c IS NOT NULL AND NOT fw_fast(c) FOR c IN ${all}])`
  );
  await conn.run("CREATE OR REPLACE TEMP TABLE fw_kind_js (line INTEGER, kind VARCHAR)");
  const appender = await conn.createAppender("fw_kind_js");
  for (const {line, cells} of odd.getRowObjectsJS() as {line: number; cells: (Uint8Array | null)[]}[]) {
    appender.appendInteger(line);
    appender.appendVarchar(classifyRow(cells.map((c) => (c === null ? null : textOfBytes(c)))));
    appender.endRow();
  }
  appender.closeSync();

  const missing = (c: string) => `fw_cell_missing(${c})`;
  const blank = (c: string) => `(${c} IS NULL OR regexp_full_match(${c}, '${JS_SPACE_CLASS}*'))`;
  // The first value that belongs to no column (a CSV: beyond the header, or under an empty header).
  const unnamed = cols.flatMap((c, i) =>
    staged.headers[i] === "" ? [`WHEN NOT ${blank(c)} THEN ${i}`] : []
  );
  const strayIndex = `CASE ${unnamed.join(" ")} WHEN list_position([NOT ${blank("x")} FOR x IN rest], true) IS NOT NULL
    THEN ${width - 1} + list_position([NOT ${blank("x")} FOR x IN rest], true) END`;
  const totalRe = literal(TOTAL_ROW.source.replace(/^\^|\$$/g, ""));
  const noteRe = literal(NOTE_ROW.source);
  // Narrow tables keyed by line (copying the parsed table's structs costs more than joining back).
  await conn.run(`CREATE OR REPLACE TEMP TABLE fw_kinds AS
    SELECT line, fw_stray, CASE WHEN fw_filled IS NULL THEN fw_c0 ELSE fw_filled[1] END AS fw_first_raw,
      CASE
        WHEN line = ${cut ? cut.line : -1} THEN 'data'
        WHEN fw_js_kind IS NOT NULL THEN fw_js_kind
        WHEN fw_filled IS NULL OR len(fw_filled) = 0 THEN 'data'
        WHEN regexp_full_match(fw_first, ${totalRe}) THEN 'total'
        WHEN len(fw_filled) = 1 AND regexp_matches(fw_first, ${noteRe}) THEN 'note'
        ELSE 'data' END AS fw_kind
    FROM (
      SELECT *, fw_squash(fw_norm(fw_filled[1])) AS fw_first FROM (
        SELECT c.line, ${width > 0 ? "c.c0" : "NULL"} AS fw_c0, j.kind AS fw_js_kind, ${strayIndex} AS fw_stray,
          CASE WHEN ${plainFirst} THEN NULL ELSE [x FOR x IN ${all} IF NOT ${missing("x")}] END AS fw_filled
        FROM fw_cells AS c LEFT JOIN fw_kind_js AS j USING (line)))`);
  await conn.run("CREATE OR REPLACE TEMP VIEW fw_rows AS SELECT * FROM fw_cells JOIN fw_kinds USING (line)");

  // Per data row, its issues in the order parseFile finds them (ord), and its warnings.
  const issue = (
    ord: number,
    column: string,
    value: string,
    reason: string,
    reasonEn: string,
    rule: string
  ) =>
    `{'ord': ${ord}, 'column': ${column}, 'value': ${value}, 'reason': ${reason}, 'reason_en': ${reasonEn}, 'rule': ${rule}}`;
  const strayValue = `${all}[fw_stray + 1]`;
  const strayLabel = `'第 ' || (fw_stray + 1) || ' 列'`;
  const early: string[] = [];
  if (cut) {
    const label = staged.headers[cut.column] || `第 ${cut.column + 1} 列`;
    early.push(
      `CASE WHEN line = ${cut.line} THEN ${issue(0, literal(label), `coalesce(${all}[${cut.column + 1}], '')`, literal(cut.reason), literal(cut.reason_en), "'truncated-file'")} END`
    );
  }
  early.push(
    `CASE WHEN fw_stray >= ${width} THEN ${issue(
      1,
      strayLabel,
      strayValue,
      `'表头之外还有值：' || ${strayLabel} || '（表头只有 ${width} 列）为「' || ${strayValue} || '」；可能多了分隔符或值错位，整行未载入'`,
      `'value beyond the header''s ${width} columns, in column ' || (fw_stray + 1)`,
      "'extra-fields'"
    )} WHEN fw_stray IS NOT NULL THEN ${issue(
      1,
      strayLabel,
      strayValue,
      `${strayLabel} || '没有表头，却有值「' || ${strayValue} || '」；可能值错位，整行未载入'`,
      `'value in column ' || (fw_stray + 1) || ', which has no header'`,
      "'extra-fields'"
    )} END`
  );
  const where = (field: string, col: Column) => {
    const mapped = mapping.fields.get(field);
    return {column: literal(mapped?.header ?? col.header), value: `coalesce(${quote(`${field}__raw`)}, '')`};
  };
  fields.forEach(([field, col], k) => {
    const f = quote(field);
    const {column, value} = where(field, col);
    early.push(
      `CASE WHEN ${f}.state = 'fail' THEN ${issue(10 + k, column, value, `${f}.reason`, `${f}.reason_en`, `${f}.rule`)} END`
    );
  });
  fields.forEach(([field, col], k) => {
    const {column, value} = where(field, col);
    const r = rangeSql(col, `${quote(field)}.v`, limits).reject;
    early.push(
      `CASE WHEN (${r}) IS NOT NULL THEN ${issue(100 + k, column, value, `(${r}).reason`, `(${r}).reason_en`, `(${r}).rule`)} END`
    );
  });
  // A rule's issue shows the raw text of the field whose header it names (rawOf(fieldOfHeader(…))).
  const headerRaw = (column: string) =>
    `CASE ${column} ${fields.map(([field, col]) => `WHEN ${literal(col.header)} THEN coalesce(${quote(`${field}__raw`)}, '')`).join(" ")} ELSE '' END`;
  const ruleIssues = ds.rules.map((rule, j) => {
    const check = rule.sql((field) => `${quote(field)}.v`);
    return `CASE WHEN (${check}) IS NOT NULL THEN ${issue(200 + j, `(${check}).column`, headerRaw(`(${check}).column`), `(${check}).reason`, `(${check}).reason_en`, literal(rule.name))} END`;
  });
  const warns = fields.map(([field, col], k) => {
    const {column, value} = where(field, col);
    const w = rangeSql(col, `${quote(field)}.v`, limits).warn;
    return `CASE WHEN (${w}) IS NOT NULL THEN ${issue(300 + k, column, value, `(${w}).reason`, `(${w}).reason_en`, `(${w}).rule`)} END`;
  });
  // Lists built only where there is something to list (most rows have nothing: building and filtering
  // a list of NULLs per row costs more than testing for it).
  const list = (items: string[]) =>
    items.length === 0
      ? "[]"
      : `CASE WHEN ${items.map((i) => `(${i}) IS NOT NULL`).join(" OR ")} THEN list_filter([${items.join(", ")}], lambda x: x IS NOT NULL) ELSE [] END`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE fw_data AS
    SELECT line, fw_issues, CASE WHEN len(fw_issues) = 0 THEN ${list(warns)} ELSE [] END AS fw_warns FROM (
      SELECT *, CASE WHEN len(fw_early) > 0 THEN fw_early ELSE ${list(ruleIssues)} END AS fw_issues
      FROM (SELECT *, ${list(early)} AS fw_early FROM fw_rows WHERE fw_kind = 'data'))`);

  const issueCols =
    "line, x.ord AS ord, x.column AS column, x.value AS value, x.reason AS reason, x.reason_en AS reason_en, x.rule AS rule";
  await conn.run(`CREATE OR REPLACE TEMP TABLE fw_rejects AS
    SELECT ${issueCols} FROM (SELECT line, unnest(fw_issues) AS x FROM fw_data) ORDER BY line, ord`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE fw_warnings AS
    SELECT line, 0 AS ord, '' AS column, coalesce(fw_first_raw, ${strayValue}, '') AS value,
      '说明行，未作为数据读取' AS reason, 'note row, not read as data' AS reason_en, 'note-row' AS rule
    FROM fw_rows WHERE fw_kind = 'note'
    UNION ALL
    SELECT ${issueCols} FROM (SELECT line, unnest(fw_warns) AS x FROM fw_data)
    ORDER BY line, ord`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE fw_loaded AS
    SELECT line, ${fields.map(([field]) => `${quote(field)}.v AS ${quote(field)}`).join(", ")}
    FROM fw_cells JOIN fw_data USING (line) WHERE len(fw_issues) = 0 ORDER BY line`);

  const problems = await controlTotals(conn, input, `([${cols.map((c) => `t.${c}`).join(", ")}] || t.rest)`);
  const counts = (
    await conn.runAndReadAll(
      `SELECT count(*) FILTER (WHERE fw_kind = 'data') AS r, count(*) FILTER (WHERE fw_kind <> 'data') AS s,
        (SELECT count(*) FROM fw_loaded) AS l FROM fw_rows`
    )
  ).getRowObjectsJS()[0] as {r: bigint; s: bigint; l: bigint};
  return {rowsRead: Number(counts.r), rowsSkipped: Number(counts.s), rowsLoaded: Number(counts.l), problems};
}

/**
 * The 合计 rows' check (parseFile): each summable column's stated total against the sum of the detail
 * rows above it (every data row, rejected or not; never reset), as structural problems, or a warning when
 * a detail value could not be read. The sums come from SQL; the few 合计 rows are judged in JS.
 */
async function controlTotals(conn: DuckDBConnection, input: StagedFile, cellsOfT: string): Promise<string[]> {
  const {file, dataset: ds, mapping} = input;
  const summable = [...mapping.fields.entries()].filter(([field]) => {
    const duck = ds.columns[field]?.duck;
    return duck === "BIGINT" || duck === "INTEGER";
  });
  await conn.run(
    'CREATE OR REPLACE TEMP TABLE fw_total_warnings (line INTEGER, ord INTEGER, "column" VARCHAR, value VARCHAR, reason VARCHAR, reason_en VARCHAR, rule VARCHAR)'
  );
  if (summable.length === 0) return [];
  // A detail value that is there but did not read leaves the sum incomplete (a blank one does not: for
  // a money or count column that is a NULL or a `required` refusal).
  const sums = summable.flatMap(([field]) => {
    const f = quote(field);
    return [
      `(SELECT CAST(coalesce(sum(CASE WHEN d.${f}.state = 'ok' THEN CAST(d.${f}.v AS HUGEINT) END), 0) AS VARCHAR) FROM fw_rows d WHERE d.fw_kind = 'data' AND d.line < t.line) AS ${quote(`${field}__sum`)}`,
      `(SELECT coalesce(bool_or(d.${f}.state = 'fail' AND d.${f}.rule <> 'required'), false) FROM fw_rows d WHERE d.fw_kind = 'data' AND d.line < t.line) AS ${quote(`${field}__incomplete`)}`
    ];
  });
  const reader = await conn.runAndReadAll(
    `SELECT t.line AS line, [encode(x) FOR x IN ${cellsOfT}] AS cells, ${sums.join(", ")}
     FROM fw_rows t WHERE t.fw_kind = 'total' ORDER BY t.line`
  );
  const problems: string[] = [];
  const appender = await conn.createAppender("fw_total_warnings");
  for (const row of reader.getRowObjectsJS()) {
    const line = Number(row.line);
    const cells = (row.cells as (Uint8Array | null)[]).map((c) => (c === null ? null : textOfBytes(c)));
    summable.forEach(([field, {index, unit, header}], k) => {
      const cell = cells[index] ?? null;
      if (isMissing(cell)) return;
      const isMoney = ds.columns[field]?.duck === "BIGINT";
      const stated = isMoney ? parseAmountFen(cell, unit ?? "元") : parseCount(cell);
      const sum = BigInt(String(row[`${field}__sum`]));
      if (!stated.ok) problems.push(`${file} 第 ${line} 行（合计行）「${header}」无法读取：${stated.reason}`);
      else if (row[`${field}__incomplete`]) {
        appender.appendInteger(line);
        appender.appendInteger(k);
        appender.appendVarchar(header);
        appender.appendVarchar(cellText(cell));
        appender.appendVarchar("明细中有无法读取的值，合计无法核对");
        appender.appendVarchar("some detail values unreadable: total not checked");
        appender.appendVarchar("control-total-unchecked");
        appender.endRow();
      } else if (BigInt(stated.value) !== sum) {
        const show = (v: bigint): string => (isMoney ? formatMoney(v, {unit: "元"}) : String(v));
        problems.push(
          `${file} 第 ${line} 行合计与明细不符：「${header}」合计行为 ${show(BigInt(stated.value))}，明细之和为 ${show(sum)}`
        );
      }
    });
  }
  appender.closeSync();
  await conn.run(
    "INSERT INTO fw_warnings SELECT * FROM fw_total_warnings; CREATE OR REPLACE TEMP TABLE fw_warnings AS SELECT * FROM fw_warnings ORDER BY line, ord"
  );
  return problems;
}
