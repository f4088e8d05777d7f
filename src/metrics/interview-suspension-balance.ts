/** 约谈整改 : 暂停解除 (Shandong 2019): suspensions and terminations per interview or rectification order. */
import {actionRatio} from "./parts.js";
import type {Metric} from "./types.js";

export const interviewSuspensionBalance: Metric = {
  id: "interview_suspension_balance",
  name: "约谈整改与暂停解除之比",
  unit: "%",
  measure: {kind: "ratio", numerator: "暂停、解除协议件数", denominator: "约谈、限期整改件数"},
  cube: "cells",
  direction: "higher",
  description: "暂停协议、解除协议件数 ÷ 约谈、限期整改件数。比值低说明“约谈多、暂停解除少”。",
  ...actionRatio(["暂停协议", "解除协议"], ["约谈", "限期整改"])
};
