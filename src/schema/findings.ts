/** 违规问题: a violation found in an inspection. */
import {amount, dataset, oneOf, text, ruleSql, sqlText} from "./dataset.js";

export const VIOLATION_CATEGORIES = {
  分解住院: [],
  挂床住院: [],
  低指征收住: ["低标准入院"],
  过度诊疗: ["过度检查", "过度医疗"],
  串换药品: ["串换项目", "串换药品/项目"],
  虚假购药: [],
  倒卖医保药品: ["倒卖药品"],
  盗刷冒用医保卡: ["盗刷医保卡", "冒用医保卡", "盗刷/冒用医保卡"],
  超标准收费: ["超标准"],
  重复收费: [],
  违规收费: [],
  虚构医疗服务: ["伪造医疗文书", "虚构医疗服务/伪造医疗文书"],
  超医保目录: ["超目录"],
  未经许可使用大型设备: [],
  上传与病例不符: ["上传数据与病历不符"],
  其他: ["其它"]
} as const;

export const findings = dataset({
  name: "findings",
  label: "违规问题",
  label_en: "findings",
  description: "检查发现的违规问题及涉及金额",
  fileWords: ["问题", "违规", "finding"],
  key: ["id"],
  columns: {
    id: text("问题编号", "finding id", {
      aliases: ["编号"],
      description: "问题的唯一编号",
      example: "WT2024-0001"
    }),
    inspection_id: text("检查编号", "inspection id", {
      description: "发现此问题的检查（须在检查记录中）",
      example: "JC2024-640104-0001"
    }),
    category: oneOf("违规类型", "category", VIOLATION_CATEGORIES, {
      aliases: ["问题类型", "违规行为"],
      description: Object.keys(VIOLATION_CATEGORIES).join("、"),
      example: "串换药品"
    }),
    amount_involved: amount("涉及金额", "amount involved", {
      aliases: ["违规金额", "涉案金额"],
      description: "违规涉及的费用（元；表头写万元时按万元换算）",
      example: "12946.92"
    }),
    fund_paid: amount("基金支付金额", "fund-paid amount", {
      aliases: ["医保基金支付金额", "统筹支付金额"],
      description: "其中医保基金支付的部分（拒付、罚款按此计算）",
      optional: true,
      example: "10357.54"
    }),
    description: text("问题描述", "description", {
      aliases: ["描述", "备注"],
      description: "问题的简要说明",
      optional: true,
      example: "将甲类药品串换为乙类药品收费"
    })
  },
  rules: [
    {
      name: "fund-paid-within-involved",
      sql: (v) =>
        ruleSql(
          `${v("fund_paid")} > ${v("amount_involved")}`,
          "基金支付金额",
          sqlText("基金支付金额大于涉及金额"),
          sqlText("fund-paid amount exceeds amount involved")
        ),
      check: (row) =>
        row.fund_paid !== null && row.amount_involved !== null && row.fund_paid > row.amount_involved
          ? {
              column: "基金支付金额",
              reason: "基金支付金额大于涉及金额",
              reason_en: "fund-paid amount exceeds amount involved"
            }
          : undefined
    }
  ]
});
