/**
 * The disposition actions and the groups the loaders and the metrics count by. No zod here: the
 * browser SDK imports this without the schemas.
 */

export const DISPOSITION_ACTIONS = {
  追回: ["追回违规费用", "追回资金"],
  拒付: ["拒付违规费用"],
  扣回: ["扣回违规费用", "扣减"],
  罚款: ["行政罚款"],
  约谈: ["约谈负责人"],
  限期整改: ["责令整改", "整改"],
  通报批评: ["通报"],
  暂停协议: ["暂停医保结算", "暂停结算", "中止协议"],
  解除协议: ["终止协议", "取消定点"],
  行政处罚: [],
  移交公安: ["移送公安", "移交公安机关"],
  移交纪检监察: ["移送纪检监察", "移交纪委监委"],
  公开曝光: ["曝光"]
} as const;

/** Actions that recover money: their sum is the recovery total. */
export const RECOVERY_ACTIONS = ["追回", "拒付", "扣回"] as const;
/** Actions that carry an amount. */
export const MONEY_ACTIONS = [...RECOVERY_ACTIONS, "罚款"] as const;
