/**
 * `dist/build.json`: what `npm run build` (scripts/build.ts) writes beside the site and `npm run
 * release` (scripts/release.ts) reads: when and from what the published site was built.
 */
import {z} from "zod";
import {DivisionCount, GateReport} from "../loaders/gates.js";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "应为 64 位十六进制 sha256");
const count = z.number().int().nonnegative();

export const BuildInput = z.object({
  file: z.string(),
  dataset: z.string(),
  sha256: sha256Hex,
  rows_read: count,
  rows_loaded: count,
  rows_rejected: count,
  rows_skipped: count
});
export type BuildInput = z.infer<typeof BuildInput>;

const isoTime = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)), {
  message: "应为 ISO 时间"
});

/** `dist/build.json`, written by `npm run build`. */
export const BuildInfo = z.object({
  format: z.literal(1),
  built_at: isoTime,
  commit: z
    .string()
    .regex(/^[0-9a-f]{7,64}$/)
    .nullable(),
  commit_dirty: z.boolean(),
  versions: z.object({framework: z.string(), duckdb_wasm: z.string(), node: z.string()}),
  data: z.object({
    as_of: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "应为 YYYY-MM-DD"),
    source: z.string(),
    generated_at: z.string(),
    inputs: z.array(BuildInput),
    /** Records and recovered amount by division: what the next build's completeness gates compare with. */
    divisions: z.array(DivisionCount).optional(),
    /** The completeness gates' verdict (loaders/gates.ts), with an accepted exception's reason. */
    gates: GateReport.optional()
  }),
  /** Whether every page passed the check before publishing (`skipped`: built with --no-check), and how many. */
  page_check: z.object({status: z.enum(["passed", "skipped"]), pages: count}),
  /**
   * The pre-baked first views (scripts/first-view.ts): how many pages carry one, how many queries they
   * answer, and the queries left to DuckDB-WASM with the reason. Absent in builds before it existed.
   */
  first_view: z
    .object({
      pages: count,
      queries: count,
      skipped: z.array(z.object({page: z.string(), sql: z.string(), reason: z.string()}))
    })
    .optional(),
  /** Whether the data loaders reran in this build, and why (else their cached outputs were reused). */
  loaders: z.object({rerun: z.boolean(), reasons: z.array(z.string())})
});
export type BuildInfo = z.infer<typeof BuildInfo>;
