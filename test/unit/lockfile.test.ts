import {readFile} from "node:fs/promises";
import {join} from "node:path";
import {describe, expect, it} from "vitest";
import {completeLock, platformOf} from "../../scripts/complete-lock.js";

const ROOT = join(import.meta.dirname, "..", "..");

describe("package-lock.json", async () => {
  const lock = JSON.parse(await readFile(join(ROOT, "package-lock.json"), "utf-8"));
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf-8"));

  it("is complete, so `npm ci` accepts it (run `npm run lock` after changing dependencies)", () => {
    expect(completeLock(structuredClone(lock))).toEqual([]);
  });
  it("pins every direct dependency to an exact version", () => {
    for (const [name, spec] of Object.entries({...pkg.dependencies, ...pkg.devDependencies})) {
      expect(`${name}@${spec}`).toMatch(/@\d+\.\d+\.\d+(-[\w.]+)?$/);
    }
  });
  it("does not contain the registry's xlsx (unfixed CVEs; use exceljs)", () => {
    expect(Object.keys(lock.packages).filter((p) => p.endsWith("node_modules/xlsx"))).toEqual([]);
  });
});

describe("platformOf(name)", () => {
  it("reads os, cpu and libc from platform package names", () => {
    expect(platformOf("@rollup/rollup-linux-arm-musleabihf")).toEqual({
      os: "linux",
      cpu: "arm",
      libc: "musl"
    });
    expect(platformOf("@rollup/rollup-linux-x64-gnu")).toEqual({os: "linux", cpu: "x64", libc: "glibc"});
    expect(platformOf("@duckdb/node-bindings-darwin-arm64")).toEqual({os: "darwin", cpu: "arm64"});
    expect(platformOf("@rollup/rollup-win32-ia32-msvc")).toEqual({os: "win32", cpu: "ia32"});
    expect(platformOf("fsevents")).toBeUndefined();
  });
});
