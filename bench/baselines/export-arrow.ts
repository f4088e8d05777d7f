/**
 * Baseline input: the site's DuckDB database file exported as Arrow IPC files, one `<table>.arrow` per
 * table the overview's logic reads (see {@link ARQUERO_TABLES}), only the columns it uses.
 *
 * Column types:
 * - money (`amount`, `amount_involved`, `big_case_threshold`): Int64, integer fen. arquero reads Int64
 *   through flechette as JS numbers and throws on a value beyond 2^53; the export also checks that
 *   each column's sum of absolute values stays below 2^53, so every sum arquero forms is exact.
 * - dates: `YYYY-MM-DD` text (Dictionary<Utf8, Int32>: a few hundred distinct days), compared as text.
 * - codes, kinds, actions: Dictionary<Utf8, Int32> when they repeat, Utf8 when unique (ids, names);
 *   counts Int32; percentages Float64; booleans Bool.
 *
 * Each file is written under a temporary name beside it and renamed into place.
 */
import {mkdir} from "node:fs/promises";
import {join} from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";
import {
  Bool,
  Dictionary,
  Float64,
  Int32,
  Int64,
  Table,
  Utf8,
  tableToIPC,
  vectorFromArray,
  type DataType,
  type Vector
} from "apache-arrow";
import {writeAtomic} from "../../loaders/outputs.js";
import type {ArqueroTableName} from "./overview-arquero.js";

type Kind = "text" | "dict" | "date" | "money" | "int" | "float" | "bool";

/** Each table's columns: the Arrow kind, and the SQL reading it (default: the column itself). */
const TABLES: Record<ArqueroTableName, {order: string; columns: Record<string, Kind>}> = {
  divisions: {order: "code", columns: {code: "text", name: "text", parent_code: "dict", level: "dict"}},
  campaigns: {
    order: "start_date, id",
    columns: {
      id: "text",
      name: "text",
      start_date: "date",
      end_date: "date",
      mobilize_by: "date",
      self_inspect_by: "date",
      rectify_by: "date",
      summary_by: "date",
      coverage_target_1: "float",
      coverage_deadline_1: "date",
      coverage_target_2: "float",
      coverage_deadline_2: "date",
      rereview_target: "float",
      big_case_threshold: "money",
      big_case_report_days: "int"
    }
  },
  institutions: {order: "code", columns: {code: "text", division_code: "dict", kind: "dict"}},
  inspections: {
    order: "id",
    columns: {
      id: "text",
      institution_code: "text",
      date: "date",
      kind: "dict",
      campaign_id: "dict",
      problem_found: "bool",
      bills_reviewed: "int",
      bills_rereviewed: "int"
    }
  },
  findings: {order: "id", columns: {id: "text", inspection_id: "text", amount_involved: "money"}},
  dispositions: {
    order: "id",
    columns: {
      finding_id: "text",
      inspection_id: "text",
      action: "dict",
      amount: "money",
      decided_on: "date",
      reported_on: "date"
    }
  },
  calendar: {order: "day", columns: {day: "date", kind: "dict", year: "int"}},
  meta: {order: "key", columns: {key: "text", value: "text"}}
};

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

function arrowType(kind: Kind): DataType {
  switch (kind) {
    case "dict":
    case "date":
      return new Dictionary(new Utf8(), new Int32());
    case "money":
      return new Int64();
    case "int":
      return new Int32();
    case "float":
      return new Float64();
    case "bool":
      return new Bool();
    default:
      return new Utf8();
  }
}

function column(table: string, name: string, kind: Kind, raw: unknown[]): Vector {
  if (kind === "money") {
    let total = 0n;
    const fen = raw.map((v) => {
      if (v == null) return null;
      const n = BigInt(v as bigint | number);
      total += n < 0n ? -n : n;
      return n;
    });
    if (total > BigInt(Number.MAX_SAFE_INTEGER))
      throw new RangeError(`${table}.${name} 的金额之和超过 2^53 分，arquero 无法精确求和`);
    return vectorFromArray(fen, new Int64());
  }
  const values = raw.map((v) => (v == null ? null : kind === "int" || kind === "float" ? Number(v) : v));
  return vectorFromArray(values, arrowType(kind));
}

/**
 * Writes `<outDir>/<table>.arrow` for every table the overview reads, from the DuckDB file (opened
 * read-only). Returns each table's rows and file size.
 */
export async function exportArrow(
  duckdbFile: string,
  outDir: string
): Promise<{table: string; rows: number; bytes: number}[]> {
  await mkdir(outDir, {recursive: true});
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  const written: {table: string; rows: number; bytes: number}[] = [];
  try {
    await conn.run(`ATTACH '${duckdbFile.replaceAll("'", "''")}' AS src (READ_ONLY)`);
    for (const [table, spec] of Object.entries(TABLES)) {
      const select = Object.entries(spec.columns)
        .map(([name, kind]) =>
          kind === "date" ? `strftime(${quote(name)}, '%Y-%m-%d') AS ${quote(name)}` : quote(name)
        )
        .join(", ");
      const reader = await conn.runAndReadAll(
        `SELECT ${select} FROM src.main.${quote(table)} ORDER BY ${spec.order}`
      );
      const data = reader.getColumnsObjectJS() as Record<string, unknown[]>;
      const vectors: Record<string, Vector> = {};
      for (const [name, kind] of Object.entries(spec.columns))
        vectors[name] = column(table, name, kind, data[name] ?? []);
      const arrow = new Table(vectors);
      const bytes = tableToIPC(arrow, "file");
      const path = join(outDir, `${table}.arrow`);
      await writeAtomic(path, bytes);
      written.push({table, rows: arrow.numRows, bytes: bytes.byteLength});
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return written;
}
