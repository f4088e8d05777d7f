/** 协议处理 : 行政处罚 (Shandong 2019): administrative penalties per agreement action. */
import {AGREEMENT, PENALTY, actionRatio} from "./parts.js";
import type {Metric} from "./types.js";

export const agreementPenaltyBalance: Metric = {
  id: "agreement_penalty_balance",
  name: "协议处理与行政处罚之比",
  unit: "%",
  measure: {kind: "ratio", numerator: "行政处罚（含罚款）件数", denominator: "协议处理件数"},
  cube: "cells",
  direction: "higher",
  description:
    "行政处罚（含罚款）件数 ÷ 协议处理（追回、拒付、扣回、约谈、限期整改、通报批评、暂停协议、解除协议）件数。比值低说明“协议处理多、行政处罚少”。",
  ...actionRatio(PENALTY, AGREEMENT)
};
