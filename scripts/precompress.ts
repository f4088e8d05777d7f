/**
 * Writes `<file>.gz` next to every compressible file of a built site, for nginx's `gzip_static on`
 * (deploy/nginx/fundwatch-location.conf): nginx then sends the prepared file to every browser that
 * accepts gzip instead of compressing the 34 MB DuckDB-WASM module again on each request.
 */
import {open, readdir, readFile, rm, stat, writeFile} from "node:fs/promises";
import {extname, join} from "node:path";
import {promisify} from "node:util";
import {constants, gzip, gzipSync} from "node:zlib";

/** The extensions worth compressing; images other than SVG, and PDFs, are compressed already. */
export const COMPRESSIBLE: readonly string[] = [
  ".html",
  ".js",
  ".css",
  ".json",
  ".wasm",
  ".duckdb",
  ".arrow",
  ".csv",
  ".svg",
  ".txt"
];

/** Smaller files gain nothing worth a second file (one TCP packet either way). */
export const MIN_SIZE = 1024;

async function* files(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

/**
 * gzip at level 9. Node writes no file name and a modification time of 0, so the same input always
 * gives the same bytes (reproducible releases and checksums).
 */
export function gzipDeterministic(data: Buffer): Promise<Buffer> {
  return gzipAsync(data, {level: constants.Z_BEST_COMPRESSION});
}
const gzipAsync = promisify(gzip);

/** The 10-byte header of every file {@link gzipDeterministic} writes. */
const HEADER = gzipSync(Buffer.alloc(0), {level: constants.Z_BEST_COMPRESSION}).subarray(0, 10);

/**
 * Whether `file` is a `.gz` this step writes (`x.js.gz`, with its header), not a gzip file the site
 * ships as such (`data.gz`, or a `.csv.gz` made by the gzip tool, which records a name or a time).
 */
async function isOurs(file: string): Promise<boolean> {
  if (!COMPRESSIBLE.includes(extname(file.slice(0, -".gz".length)).toLowerCase())) return false;
  const handle = await open(file, "r");
  try {
    const {bytesRead, buffer} = await handle.read(Buffer.alloc(10), 0, 10, 0);
    return bytesRead === 10 && buffer.equals(HEADER);
  } finally {
    await handle.close();
  }
}

/**
 * Writes `<file>.gz` (gzip level 9, the same bytes for the same input) next to every file under `dir`
 * with an extension in {@link COMPRESSIBLE}, of at least {@link MIN_SIZE} bytes, whose gzip is smaller
 * than it; removes a `.gz` it wrote earlier whose original is gone or no longer qualifies. Idempotent:
 * a `.gz` that already holds the right bytes is left as it is (its time too, so nginx's ETag stays).
 *
 * @returns how many `.gz` files there are now, the bytes of their originals and their own bytes
 */
export async function precompress(dir: string): Promise<{files: number; bytes: number; gzipBytes: number}> {
  const all: string[] = [];
  for await (const file of files(dir)) all.push(file);
  const present = new Set(all);
  const kept = new Set<string>();
  let bytes = 0;
  let gzipBytes = 0;
  for (const file of all) {
    if (file.endsWith(".gz") || !COMPRESSIBLE.includes(extname(file).toLowerCase())) continue;
    if ((await stat(file)).size < MIN_SIZE) continue;
    const data = await readFile(file);
    const gz = await gzipDeterministic(data);
    if (gz.length >= data.length) continue;
    const target = `${file}.gz`;
    const old = present.has(target) ? await readFile(target) : undefined;
    if (!old?.equals(gz)) await writeFile(target, gz);
    kept.add(target);
    bytes += data.length;
    gzipBytes += gz.length;
  }
  for (const file of all) if (file.endsWith(".gz") && !kept.has(file) && (await isOurs(file))) await rm(file);
  return {files: kept.size, bytes, gzipBytes};
}
