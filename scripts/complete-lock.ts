/**
 * `npm run lock`: completes package-lock.json after `npm install`.
 *
 * The registry this project builds from serves only the native packages of the platforms we run
 * on; the other platforms' optional packages (rollup, DuckDB's node bindings ...) answer 404, so npm
 * leaves them out of the lock, and `npm ci` then refuses the lock as "not in sync". This adds an
 * entry for each missing optional platform package with its version, os, cpu and libc only (no
 * tarball): `npm ci` accepts the lock and skips those packages as not for this platform.
 */
import {readFile, writeFile} from "node:fs/promises";
import {fileURLToPath} from "node:url";

interface LockPackage {
  version?: string;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optionalDependencies?: Record<string, string>;
}

interface Lock {
  packages: Record<string, LockPackage>;
}

const OS = [
  "android",
  "darwin",
  "freebsd",
  "linux",
  "openbsd",
  "openharmony",
  "win32",
  "sunos",
  "netbsd",
  "aix"
];
const CPU = ["arm64", "arm", "x64", "ia32", "loong64", "ppc64", "riscv64", "s390x", "mips64el"];

/** Reads os, cpu and libc from a platform package name such as `@rollup/rollup-linux-arm-musleabihf`. */
export function platformOf(name: string): {os: string; cpu: string; libc?: string} | undefined {
  const tokens = (name.split("/").pop() ?? "").split("-");
  const osIndex = tokens.findIndex((t) => OS.includes(t));
  const os = tokens[osIndex];
  const cpu = tokens.slice(osIndex + 1).find((t) => CPU.includes(t));
  if (os === undefined || cpu === undefined) return undefined;
  const rest = tokens.slice(osIndex + 1).join("-");
  const libc = os !== "linux" ? undefined : /musl/.test(rest) ? "musl" : "glibc";
  return {os, cpu, ...(libc ? {libc} : {})};
}

/** Adds the missing optional platform entries; returns the names added. */
export function completeLock(lock: Lock): string[] {
  const added: string[] = [];
  for (const [path, pkg] of Object.entries(lock.packages)) {
    for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
      const base = path === "" ? "" : `${path}/`;
      const candidates = [`${base}node_modules/${name}`, `node_modules/${name}`];
      if (candidates.some((c) => lock.packages[c])) continue;
      const platform = platformOf(name);
      if (!platform)
        throw new Error(
          `${path || "(root)"} 的可选依赖 ${name} 不在 lock 中，也不是平台包：请检查 npm install 的输出`
        );
      if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version))
        throw new Error(`${name}: 版本 ${version} 不是确切版本，无法补全`);
      lock.packages[`node_modules/${name}`] = {
        version,
        optional: true,
        os: [platform.os],
        cpu: [platform.cpu],
        ...(platform.libc ? {libc: [platform.libc]} : {})
      };
      added.push(`${name}@${version}`);
    }
  }
  lock.packages = Object.fromEntries(
    Object.entries(lock.packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  );
  return added;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = fileURLToPath(new URL("../package-lock.json", import.meta.url));
  const lock = JSON.parse(await readFile(path, "utf-8")) as Lock;
  const added = completeLock(lock);
  await writeFile(path, JSON.stringify(lock, null, 2) + "\n");
  console.error(`[fundwatch] package-lock.json：补全了 ${added.length} 个其他平台的可选包`);
}
