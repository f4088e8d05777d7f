/** Money actions a unit reports: amounts recovered, refused or deducted, as published. */
import {z} from "zod";

export const MONEY_ACTIONS = ["追回", "拒付", "扣回", "追回或拒付"] as const;

export const recoverySchema = z.object({
  unit_code: z.string().min(1).describe("单位编码"),
  action: z
    .enum(MONEY_ACTIONS, {error: `处理方式应为 ${MONEY_ACTIONS.join("、")} 之一`})
    .describe("处理方式"),
  amount_fen: z.bigint().nonnegative("金额不能为负").describe("金额（分）"),
  stated_as: z.string().describe("原文表述"),
  period: z.string().describe("期间"),
  note: z.string().describe("备注")
});

export type Recovery = z.infer<typeof recoverySchema>;
