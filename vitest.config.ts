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
          environment: "node"
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
