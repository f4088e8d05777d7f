// The .gz files nginx's gzip_static sends: next to every compressible file worth it, the same bytes
// for the same input, stale ones removed, and a second run changing nothing.
import {randomBytes} from "node:crypto";
import {mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join, relative} from "node:path";
import {gunzipSync, gzipSync} from "node:zlib";
import {afterAll, describe, expect, it} from "vitest";
import {COMPRESSIBLE, MIN_SIZE, precompress} from "../../scripts/precompress.js";

const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, {recursive: true, force: true});
});

const text = (n: number): string =>
  "医保基金监管 fund supervision 0123456789\n".repeat(Math.ceil(n / 40)).slice(0, n);

async function site(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "fundwatch-gz-"));
  temps.push(dir);
  await mkdir(join(dir, "_node", "@duckdb", "duckdb-wasm@1.32.0", "dist"), {recursive: true});
  await mkdir(join(dir, "_file", "data"), {recursive: true});
  await writeFile(join(dir, "index.html"), `<!DOCTYPE html><p>${text(5000)}</p>`);
  await writeFile(join(dir, "small.js"), "export const a = 1;\n"); // under 1 KiB
  await writeFile(
    join(dir, "_node", "@duckdb", "duckdb-wasm@1.32.0", "dist", "duckdb-eh.wasm"),
    Buffer.alloc(200_000, 7)
  );
  await writeFile(join(dir, "_file", "data", "fundwatch.fa7fd8aa.duckdb"), Buffer.from(text(30_000)));
  await writeFile(join(dir, "style.css"), `a{b:c}\n${text(2000)}`);
  await writeFile(join(dir, "logo.png"), Buffer.alloc(5000, 1)); // not compressible by extension
  // Random bytes: gzip does not make them smaller.
  await writeFile(join(dir, "random.json"), randomBytes(4096));
  return dir;
}

async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, {withFileTypes: true})) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else
        out[relative(dir, p)] =
          `${(await stat(p)).mtimeMs}:${(await readFile(p)).toString("base64").slice(0, 40)}`;
    }
  }
  await walk(dir);
  return out;
}

describe("precompress(dir)", () => {
  it("writes a level-9 .gz next to each compressible file of at least 1 KiB that gzip makes smaller", async () => {
    const dir = await site();
    const result = await precompress(dir);
    const gz = Object.keys(await files(dir))
      .filter((f) => f.endsWith(".gz"))
      .sort();
    expect(gz).toEqual(
      [
        "_file/data/fundwatch.fa7fd8aa.duckdb.gz",
        "_node/@duckdb/duckdb-wasm@1.32.0/dist/duckdb-eh.wasm.gz",
        "index.html.gz",
        "style.css.gz"
      ].sort()
    );
    let bytes = 0;
    let gzipBytes = 0;
    for (const file of gz) {
      const original = await readFile(join(dir, file.slice(0, -3)));
      const packed = await readFile(join(dir, file));
      expect(gunzipSync(packed).equals(original), file).toBe(true);
      expect(packed.equals(gzipSync(original, {level: 9})), file).toBe(true);
      bytes += original.length;
      gzipBytes += packed.length;
    }
    expect(result).toEqual({files: 4, bytes, gzipBytes});
    expect(gzipBytes).toBeLessThan(bytes / 10);
    expect(COMPRESSIBLE).toEqual([
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
    ]);
    expect(MIN_SIZE).toBe(1024);
  });
  it("gives the same bytes for the same input, and a second run changes nothing", async () => {
    const a = await site();
    const b = await site();
    await precompress(a);
    await precompress(b);
    expect(await readFile(join(a, "index.html.gz"))).toEqual(await readFile(join(b, "index.html.gz")));
    const first = await files(a);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await precompress(a);
    expect(await files(a)).toEqual(first);
  });
  it("rewrites a .gz whose original changed and removes one whose original is gone or too small now", async () => {
    const dir = await site();
    await precompress(dir);
    await writeFile(join(dir, "index.html"), `<p>${text(3000)}改</p>`);
    await rm(join(dir, "style.css"));
    await writeFile(join(dir, "_file", "data", "fundwatch.fa7fd8aa.duckdb"), "tiny");
    const result = await precompress(dir);
    expect(result.files).toBe(2);
    expect(gunzipSync(await readFile(join(dir, "index.html.gz"))).toString()).toBe(`<p>${text(3000)}改</p>`);
    const names = Object.keys(await files(dir));
    expect(names).not.toContain("style.css.gz");
    expect(names).not.toContain("_file/data/fundwatch.fa7fd8aa.duckdb.gz");
  });
  it("leaves alone gzip files the site ships as such", async () => {
    const dir = await site();
    // Made by the gzip tool (a name in the header) and a .gz with no compressible original extension.
    const shipped = gzipSync(Buffer.from(text(4000)));
    shipped[3] = 0x08; // FNAME flag, as `gzip` writes it
    await writeFile(join(dir, "export.csv.gz"), shipped);
    await writeFile(join(dir, "archive.tar.gz"), gzipSync(Buffer.from(text(4000)), {level: 9}));
    await precompress(dir);
    const names = Object.keys(await files(dir));
    expect(names).toContain("export.csv.gz");
    expect(names).toContain("archive.tar.gz");
    expect(names).not.toContain("export.csv");
  });
});
