// No secret is shipped: a build and its release bundle made with a canary password and token in the
// loaders' environment must not contain either, in any form, anywhere: the site, the bundle, the
// caches beside them. The scanner is shown to find a planted canary first, so a pass means something.
import {execFileSync} from "node:child_process";
import {cp, mkdir, mkdtemp, readdir, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {gzipSync} from "node:zlib";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {build} from "../../scripts/build.js";
import {copyProject} from "../../scripts/copy-project.js";
import {scanForSecrets} from "../support/secrets.js";

const PASSWORD = "canary-Pw-5d8e21b7c4";
const TOKEN = "canary-Tok-9a0f3e66d1";
const SECRETS = [PASSWORD, TOKEN];
let root: string;
let releaseDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "fundwatch-secrets-"));
  await copyProject(root, {data: true});
  const env = {
    ...process.env,
    FUNDWATCH_BRIEFING: "0",
    // What a database loader would be given, under both our prefix and the usual names.
    FUNDWATCH_DB_PASSWORD: PASSWORD,
    FUNDWATCH_API_TOKEN: TOKEN,
    PGPASSWORD: PASSWORD,
    DB_PASSWORD: PASSWORD,
    API_TOKEN: TOKEN
  };
  // The page check is publish.test.ts's subject; here it would only add a minute, so the release is
  // told to take the unchecked build.
  await build({root, env, check: false});
  releaseDir = join(root, "release");
  const args = ["scripts/release.ts", "--out", releaseDir, "--allow-unchecked"];
  execFileSync(join(root, "node_modules", ".bin", "tsx"), args, {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"]
  });
});
afterAll(async () => {
  if (root) await rm(root, {recursive: true, force: true});
});

describe("the scanner", () => {
  it("finds a planted canary as text, base64, in a gzip file, in a tar.gz and in a DuckDB file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fundwatch-scan-control-"));
    try {
      await writeFile(join(dir, "a.js"), `const x = "${PASSWORD}";`);
      await writeFile(join(dir, "b.txt"), Buffer.from(TOKEN).toString("base64"));
      await writeFile(join(dir, "c.json.gz"), gzipSync(JSON.stringify({token: TOKEN})));
      await mkdir(join(dir, "t"));
      await writeFile(join(dir, "t", "inner.txt"), PASSWORD);
      execFileSync("tar", ["-czf", join(dir, "d.tar.gz"), "-C", join(dir, "t"), "inner.txt"]);
      await rm(join(dir, "t"), {recursive: true});
      // A database file whose strings DuckDB stores compressed: copy the site's and add a row.
      const {DuckDBInstance} = await import("@duckdb/node-api");
      const instance = await DuckDBInstance.create(join(dir, "e.duckdb"));
      const connection = await instance.connect();
      await connection.run(
        `CREATE TABLE meta AS SELECT 'source' AS key, repeat('x', 10000) || '${PASSWORD}' AS value`
      );
      connection.closeSync();
      instance.closeSync();
      const found = await scanForSecrets(dir, SECRETS);
      const files = new Set(found.map((f) => f.file.slice(dir.length + 1)));
      expect([...files].sort()).toEqual(["a.js", "b.txt", "c.json.gz", "d.tar.gz", "e.duckdb"]);
      expect(found.some((f) => f.how.startsWith("duckdb meta.value"))).toBe(true);
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  });
});

describe("a build and release made with canary secrets in the environment", () => {
  it("has a site, a bundle and caches to look in", async () => {
    expect(await readdir(join(root, "dist"))).toContain("index.html");
    expect((await readdir(releaseDir)).filter((f) => f.endsWith(".tar.gz"))).toHaveLength(1);
    expect(await readdir(join(root, "reports", ".observablehq", "cache", "data"))).toContain(
      "fundwatch.duckdb"
    );
  });

  it("ships neither secret in dist/", async () => {
    expect(await scanForSecrets(join(root, "dist"), SECRETS)).toEqual([]);
  });

  it("ships neither secret in the release bundle (every member, decompressed)", async () => {
    expect(await scanForSecrets(releaseDir, SECRETS)).toEqual([]);
  });

  it("keeps neither secret in the build caches (Framework's cache, the staging folder)", async () => {
    expect(await scanForSecrets(join(root, "reports", ".observablehq"), SECRETS)).toEqual([]);
    expect(await scanForSecrets(join(root, ".fundwatch-build"), SECRETS)).toEqual([]);
  });

  it("still finds the canary when one is planted in the published site (the scan is live)", async () => {
    const copy = await mkdtemp(join(tmpdir(), "fundwatch-scan-dist-"));
    try {
      await cp(join(root, "dist"), copy, {recursive: true});
      await writeFile(join(copy, "_observablehq", "leak.js.gz"), gzipSync(`export const t = "${TOKEN}";`));
      const found = await scanForSecrets(copy, SECRETS);
      expect(found.map((f) => f.file.slice(copy.length + 1))).toEqual(["_observablehq/leak.js.gz"]);
    } finally {
      await rm(copy, {recursive: true, force: true});
    }
  });
});
