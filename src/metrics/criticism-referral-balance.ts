/** 通报批评 : 移交移送 (Shandong 2019): referrals per public criticism. */
import {actionRatio, REFERRAL} from "./parts.js";
import type {Metric} from "./types.js";

export const criticismReferralBalance: Metric = {
  id: "criticism_referral_balance",
  name: "通报批评与移交移送之比",
  unit: "%",
  measure: {kind: "ratio", numerator: "移交公安、纪检监察件数", denominator: "通报批评件数"},
  cube: "cells",
  direction: "higher",
  description: "移交公安、移交纪检监察件数 ÷ 通报批评件数。比值低说明“通报多、移交少”。",
  ...actionRatio(REFERRAL, ["通报批评"])
};
