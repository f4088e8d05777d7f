/**
 * A working copy of this project in another folder, for builds that must not touch the checkout: the
 * benchmark's site and the browser tests that add pages or edit the SDK. node_modules is linked, not
 * copied; Framework's cache (reports/.observablehq) is left behind, so the copy builds from cold.
 */
import {cp, mkdir, symlink} from "node:fs/promises";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {CALENDAR_FILE} from "../loaders/calendar.js";

const PROJECT = fileURLToPath(new URL("../", import.meta.url));
const COPIED = [
  "src",
  "loaders",
  "scripts",
  "deploy",
  "observablehq.config.ts",
  "package.json",
  "tsconfig.json"
];

/**
 * Copies the project into `dir` (which must not exist or be empty); `data` also copies data/. The holiday
 * calendar (data/节假日.csv) is copied either way: every build reads it.
 */
export async function copyProject(dir: string, {data = false}: {data?: boolean} = {}): Promise<void> {
  await mkdir(dir, {recursive: true});
  for (const entry of data ? [...COPIED, "data"] : COPIED)
    await cp(join(PROJECT, entry), join(dir, entry), {recursive: true});
  if (!data) await cp(join(PROJECT, CALENDAR_FILE), join(dir, CALENDAR_FILE));
  await cp(join(PROJECT, "reports"), join(dir, "reports"), {
    recursive: true,
    verbatimSymlinks: true,
    filter: (source) => !source.includes(".observablehq")
  });
  await symlink(join(PROJECT, "node_modules"), join(dir, "node_modules"));
}
