import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "dist/",
      "dist.*/",
      ".fundwatch-build/",
      "release/",
      "reports/.observablehq/",
      "reports/sdk/",
      "test-results/",
      "bench/.cache/"
    ]
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: {globals: {...globals.browser, ...globals.node}},
    rules: {
      "no-console": ["error", {allow: ["error", "warn"]}],
      "@typescript-eslint/consistent-type-imports": "error",
      eqeqeq: ["error", "always", {null: "ignore"}]
    }
  },
  {
    files: ["scripts/**", "loaders/**", "reports/data/**", "bench/**"],
    rules: {"no-console": "off"}
  },
  {
    // In tests a wrong assumption fails the test, which is what a test is for.
    files: ["test/**"],
    rules: {"@typescript-eslint/no-non-null-assertion": "off"}
  }
);
