/** 移交移送件数: cases referred to the police or to the discipline inspection commission. */
import {actionCount, REFERRAL} from "./parts.js";
import type {Metric} from "./types.js";

export const referrals: Metric = {
  id: "referrals",
  name: "移交移送件数",
  unit: "件",
  measure: {kind: "total"},
  cube: "cells",
  direction: "higher",
  description: "处理方式为移交公安或移交纪检监察的件数。",
  ...actionCount(REFERRAL)
};
