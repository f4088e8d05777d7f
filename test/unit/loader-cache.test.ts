// The build keeps a cached loader output only while everything the loaders read is unchanged.
import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterEach, describe, expect, it} from "vitest";
import {
  describeChanges,
  loaderFingerprint,
  recordLoaderInputs,
  refreshLoaderCache
} from "../../scripts/loader-cache.js";

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((t) => rm(t, {recursive: true, force: true})));
});

/** A tiny project: an input folder, loader code, and a Framework cache holding a loader output. */
async function project(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "fundwatch-cache-"));
  temps.push(root);
  await mkdir(join(root, "data", "ningxia"), {recursive: true});
  await mkdir(join(root, "data", "other"), {recursive: true});
  await mkdir(join(root, "reports", "data"), {recursive: true});
  await mkdir(join(root, "loaders"), {recursive: true});
  await mkdir(join(root, "src", "metrics"), {recursive: true});
  await writeFile(join(root, "data", "ningxia", "inspections.csv"), "机构编码,金额\nA1,12.34\n");
  await writeFile(join(root, "data", "other", "inspections.csv"), "机构编码,金额\nA1,99.99\n");
  await writeFile(join(root, "reports", "data", "fundwatch.duckdb.ts"), "// loader\n");
  await writeFile(join(root, "loaders", "ingest.ts"), "export const x = 1;\n");
  await writeFile(join(root, "src", "metrics", "recovery.ts"), "export const y = 2;\n");
  await writeFile(join(root, "package-lock.json"), "{}\n");
  await fillCache(root);
  return root;
}

async function fillCache(root: string): Promise<void> {
  const cache = join(root, "reports", ".observablehq", "cache");
  await mkdir(join(cache, "data"), {recursive: true});
  await mkdir(join(cache, "_node", "d3@7.9.0"), {recursive: true});
  await writeFile(join(cache, "data", "fundwatch.duckdb"), "old output");
  await writeFile(join(cache, "_node", "d3@7.9.0", "index.js"), "bundle");
}

const cachedOutput = (root: string): Promise<string | null> =>
  readFile(join(root, "reports", ".observablehq", "cache", "data", "fundwatch.duckdb"), "utf-8").catch(
    () => null
  );

/** A successful build: decide, then record (and the loader writes its output again if it was removed). */
async function buildOnce(
  root: string,
  env: NodeJS.ProcessEnv
): Promise<{reused: boolean; reasons: string[]}> {
  const decision = await refreshLoaderCache(root, env);
  if (!decision.reused) await fillCache(root);
  await recordLoaderInputs(root, decision.fingerprint);
  return decision;
}

describe("refreshLoaderCache", () => {
  it("reruns every loader on the first build, then reuses the outputs while nothing changed", async () => {
    const root = await project();
    const first = await buildOnce(root, {});
    expect(first.reused).toBe(false);
    expect(first.reasons).toEqual(["没有上次成功构建的记录"]);
    const second = await refreshLoaderCache(root, {});
    expect(second.reused).toBe(true);
    expect(await cachedOutput(root)).toBe("old output");
  });

  it("reruns when an input file changes, is added or removed, naming it; keeps the node bundles", async () => {
    const root = await project();
    await buildOnce(root, {});
    await writeFile(join(root, "data", "ningxia", "inspections.csv"), "机构编码,金额\nA1,12.35\n");
    const changed = await refreshLoaderCache(root, {});
    expect(changed.reused).toBe(false);
    expect(changed.reasons).toEqual(["输入文件变化：inspections.csv"]);
    expect(await cachedOutput(root)).toBeNull();
    expect(await readdir(join(root, "reports", ".observablehq", "cache"))).toContain("_node");

    await buildOnce(root, {});
    await writeFile(join(root, "data", "ningxia", "findings.csv"), "x\n");
    expect((await buildOnce(root, {})).reasons).toEqual(["输入文件新增：findings.csv"]);
    await rm(join(root, "data", "ningxia", "findings.csv"));
    expect((await buildOnce(root, {})).reasons).toEqual(["输入文件删除：findings.csv"]);
  });

  it("reruns when the holiday calendar (data/节假日.csv, or FUNDWATCH_CALENDAR's file) changes, naming it", async () => {
    const root = await project();
    await writeFile(join(root, "data", "节假日.csv"), "日期,类型\n2024-10-01,休\n");
    await buildOnce(root, {});
    expect((await refreshLoaderCache(root, {})).reused).toBe(true);
    await writeFile(join(root, "data", "节假日.csv"), "日期,类型\n2024-10-01,休\n2024-10-02,休\n");
    expect((await buildOnce(root, {})).reasons).toEqual(["节假日表变化：data/节假日.csv"]);
    await writeFile(join(root, "data", "其他节假日.csv"), "日期,类型\n");
    expect((await buildOnce(root, {FUNDWATCH_CALENDAR: "data/其他节假日.csv"})).reasons).toEqual([
      "节假日表新增：data/其他节假日.csv",
      "节假日表删除：data/节假日.csv",
      "环境变量新增：FUNDWATCH_CALENDAR"
    ]);
  });

  it("reruns when the input folder, loader code, SDK code, lockfile or a FUNDWATCH_ variable changes", async () => {
    const root = await project();
    await buildOnce(root, {});
    expect((await buildOnce(root, {FUNDWATCH_DATA_DIR: "data/other"})).reused).toBe(false);
    expect((await buildOnce(root, {FUNDWATCH_DATA_DIR: "data/other"})).reused).toBe(true);

    await writeFile(join(root, "src", "metrics", "recovery.ts"), "export const y = 3;\n");
    expect((await buildOnce(root, {FUNDWATCH_DATA_DIR: "data/other"})).reasons).toEqual([
      "代码变化：src/metrics/recovery.ts"
    ]);
    await writeFile(join(root, "reports", "data", "fundwatch.duckdb.ts"), "// loader v2\n");
    expect((await buildOnce(root, {FUNDWATCH_DATA_DIR: "data/other"})).reasons).toEqual([
      "代码变化：reports/data/fundwatch.duckdb.ts"
    ]);
    await writeFile(join(root, "package-lock.json"), '{"v": 2}\n');
    expect((await buildOnce(root, {FUNDWATCH_DATA_DIR: "data/other"})).reasons).toEqual([
      "代码变化：package-lock.json"
    ]);

    const env = {FUNDWATCH_DATA_DIR: "data/other", FUNDWATCH_TODAY: "2024-09-27"};
    expect((await buildOnce(root, env)).reasons).toEqual(["环境变量新增：FUNDWATCH_TODAY"]);
    expect((await buildOnce(root, {...env, FUNDWATCH_TODAY: "2024-09-28"})).reasons).toEqual([
      "环境变量变化：FUNDWATCH_TODAY"
    ]);
  });

  it("ignores the build's own switches and variables that are not FUNDWATCH_", async () => {
    const root = await project();
    await buildOnce(root, {FUNDWATCH_BRIEFING: "1", HOME: "/a"});
    const decision = await refreshLoaderCache(root, {
      FUNDWATCH_BRIEFING: "0",
      FUNDWATCH_BUILD_TIME: "2026-11-30T00:00:00Z",
      HOME: "/b"
    });
    expect(decision.reused).toBe(true);
  });

  it("reruns after a failed build, even when the inputs are back to the last recorded ones", async () => {
    const root = await project();
    await buildOnce(root, {});
    await writeFile(join(root, "data", "ningxia", "inspections.csv"), "changed\n");
    expect((await refreshLoaderCache(root, {})).reused).toBe(false);
    // The build then fails after its loader wrote an output made from the changed file: nothing is recorded.
    await fillCache(root);
    await writeFile(join(root, "data", "ningxia", "inspections.csv"), "机构编码,金额\nA1,12.34\n");
    const decision = await refreshLoaderCache(root, {});
    expect(decision.reused).toBe(false);
    expect(decision.reasons).toEqual(["没有上次成功构建的记录"]);
    expect(await cachedOutput(root)).toBeNull();
  });

  it("never writes an environment value, even one that looks like a secret, to its record", async () => {
    const root = await project();
    const secret = "canary-Pa55word-7f3e1c";
    await buildOnce(root, {FUNDWATCH_DB_PASSWORD: secret});
    const record = await readFile(
      join(root, "reports", ".observablehq", "cache", ".fundwatch-loader-inputs.json"),
      "utf-8"
    );
    expect(record).toContain("env:FUNDWATCH_DB_PASSWORD");
    expect(record).not.toContain(secret);
  });
});

describe("loaderFingerprint", () => {
  it("is the same for the same inputs and differs for one changed byte", async () => {
    const root = await project();
    const a = await loaderFingerprint(root, {});
    expect((await loaderFingerprint(root, {})).hash).toBe(a.hash);
    await writeFile(join(root, "loaders", "ingest.ts"), "export const x = 2;\n");
    const b = await loaderFingerprint(root, {});
    expect(b.hash).not.toBe(a.hash);
    expect(describeChanges(a, b)).toEqual(["代码变化：loaders/ingest.ts"]);
  });
});
