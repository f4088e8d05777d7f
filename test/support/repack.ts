/** Unpacks a release archive, lets a test change it, and packs it again (plain GNU tar, no sidecar). */
import {execFileSync} from "node:child_process";
import {mkdtemp, readdir, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";

export async function repack(
  archive: string,
  out: string,
  change: (top: string) => Promise<void>
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "fundwatch-repack-"));
  try {
    execFileSync("tar", ["-xzmf", archive, "-C", dir]);
    const [top] = await readdir(dir);
    if (top === undefined) throw new Error(`${archive} is empty`);
    await change(join(dir, top));
    execFileSync("tar", ["-czf", out, "-C", dir, top]);
    return out;
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}
