import {defineConfig} from "vitest/config";

export default defineConfig({
  test: {
    env: {TZ: "Asia/Shanghai"},
    // Two cores: the browser suite builds the site and drives Chromium; running its files one at a
    // time keeps it from starving itself.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          // DuckDB-WASM's start and the SQL suites take seconds on a busy 2-core machine: vitest's 5 s
          // default failed them at random (and a one-file run during the wasm warm-up).
          testTimeout: 60_000,
          hookTimeout: 120_000
        }
      },
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          testTimeout: 300_000,
          hookTimeout: 600_000
        }
      }
    ]
  }
});
