/**
 * Reporting units: administrative divisions (GB/T 2260 codes) and the units that report beside
 * them without a standard code (development zones, the city bureau's own jurisdiction 市本级).
 */
import {z} from "zod";

export const UNIT_LEVELS = ["province", "city", "county"] as const;
export const UNIT_KINDS = ["division", "zone", "city_own"] as const;

/** Chinese labels for unit kinds. */
export const UNIT_KIND_LABELS: Record<(typeof UNIT_KINDS)[number], string> = {
  division: "行政区划",
  zone: "功能区（非行政区划）",
  city_own: "市本级"
};

export const unitSchema = z.object({
  code: z
    .string()
    .regex(/^\d{4}[0-9A-Z]{2}$/, "单位编码应为 6 位：GB/T 2260 代码，或上级代码前 4 位加 2 位本地代码")
    .describe("单位编码"),
  name: z.string().trim().min(1, "单位名称不能为空").describe("单位名称"),
  parent_code: z
    .string()
    .regex(/^\d{6}$/, "上级编码应为 6 位 GB/T 2260 代码")
    .nullable()
    .describe("上级单位编码"),
  level: z.enum(UNIT_LEVELS).describe("层级"),
  kind: z.enum(UNIT_KINDS).describe("单位类型")
});

export type Unit = z.infer<typeof unitSchema>;
