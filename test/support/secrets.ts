/**
 * Looks for secret strings anywhere in a tree of files: in the raw bytes (as UTF-8, UTF-16LE and
 * base64), inside gzip files (decompressed), inside tar.gz archives (every member), and inside DuckDB
 * files (every text column of every table, since DuckDB stores strings compressed on disk).
 */
import {execFileSync} from "node:child_process";
import {mkdtemp, readdir, readFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {gunzipSync} from "node:zlib";
import {DuckDBInstance} from "@duckdb/node-api";

export interface Finding {
  file: string;
  secret: string;
  how: string;
}

/** The forms a secret can take in a file; a form the same as an earlier one is left out. */
function forms(secret: string): [string, Buffer][] {
  const all: [string, Buffer][] = [
    ["utf-8", Buffer.from(secret, "utf-8")],
    ["utf-16le", Buffer.from(secret, "utf16le")],
    ["base64", Buffer.from(Buffer.from(secret).toString("base64").replace(/=+$/, ""))],
    ["url", Buffer.from(encodeURIComponent(secret))]
  ];
  return all.filter(([, bytes], i) => all.findIndex(([, other]) => other.equals(bytes)) === i);
}

function scanBytes(bytes: Buffer, file: string, secrets: readonly string[], where: string): Finding[] {
  const found: Finding[] = [];
  for (const secret of secrets)
    for (const [how, needle] of forms(secret))
      if (bytes.includes(needle)) found.push({file, secret, how: `${where}${how}`});
  return found;
}

async function scanDuckDB(file: string, secrets: readonly string[]): Promise<Finding[]> {
  const instance = await DuckDBInstance.create(file, {access_mode: "READ_ONLY"});
  const connection = await instance.connect();
  const found: Finding[] = [];
  try {
    const columns = (
      await connection.runAndReadAll(
        // Tables only: a view holds no rows (the small data file's views read a file not attached
        // here); its definition is scanned below.
        `SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns AS c
         JOIN information_schema.tables AS t USING (table_catalog, table_schema, table_name)
         WHERE c.data_type = 'VARCHAR' AND t.table_type = 'BASE TABLE'`
      )
    ).getRows();
    const views = (
      await connection.runAndReadAll("SELECT view_name, sql, comment FROM duckdb_views() WHERE NOT internal")
    ).getRows();
    for (const [view, sql, comment] of views)
      for (const secret of secrets)
        if (`${String(sql)}\n${String(comment ?? "")}`.includes(secret))
          found.push({file, secret, how: `duckdb view ${String(view)}`});
    for (const [schema, table, column] of columns) {
      const name = (s: unknown): string => `"${String(s).replaceAll('"', '""')}"`;
      for (const secret of secrets) {
        const hits = await connection.runAndReadAll(
          `SELECT count(*) FROM ${name(schema)}.${name(table)} WHERE contains(${name(column)}, $s)`,
          {s: secret}
        );
        if (Number(hits.getRows()[0]?.[0] ?? 0) > 0)
          found.push({file, secret, how: `duckdb ${String(table)}.${String(column)}`});
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return found;
}

/** Every finding of any of `secrets` under `path` (a folder or a file). */
export async function scanForSecrets(path: string, secrets: readonly string[]): Promise<Finding[]> {
  const found: Finding[] = [];
  const entries = await readdir(path, {withFileTypes: true}).catch(() => null);
  if (entries) {
    for (const e of entries) {
      if (e.isSymbolicLink()) continue;
      found.push(...(await scanForSecrets(join(path, e.name), secrets)));
    }
    return found;
  }
  const bytes = await readFile(path);
  found.push(...scanBytes(bytes, path, secrets, ""));
  if (path.endsWith(".tar.gz") || path.endsWith(".tgz")) {
    const dir = await mkdtemp(join(tmpdir(), "fundwatch-scan-"));
    try {
      execFileSync("tar", ["-xzf", path, "-C", dir]);
      // A member's finding is reported against the archive, naming the member.
      found.push(
        ...(await scanForSecrets(dir, secrets)).map((f) => ({
          ...f,
          file: path,
          how: `member ${f.file.slice(dir.length + 1)}: ${f.how}`
        }))
      );
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  } else if (path.endsWith(".gz")) {
    found.push(...scanBytes(gunzipSync(bytes), path, secrets, "gunzip "));
  }
  if (bytes.subarray(8, 12).toString("latin1") === "DUCK") found.push(...(await scanDuckDB(path, secrets)));
  return found;
}
