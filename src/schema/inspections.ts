/** 检查记录: one inspection of one institution. */
import {bool, count, dataset, date, oneOf, text, ruleSql, sqlText} from "./dataset.js";

export const INSPECTION_KINDS = {
  自查自纠: ["自查"],
  日常检查: ["日常稽核", "日常"],
  专项检查: ["专项治理", "专项"],
  抽查复查: ["抽查", "复查"],
  交叉检查: ["交叉互查", "交叉"],
  飞行检查: ["飞检"],
  回头看: ["回头看检查"],
  智能监控: ["智能审核", "智能监管"]
} as const;

export const inspections = dataset({
  name: "inspections",
  label: "检查记录",
  label_en: "inspections",
  description: "对定点医药机构的每一次检查",
  fileWords: ["检查", "inspection"],
  key: ["id"],
  columns: {
    id: text("检查编号", "inspection id", {
      aliases: ["编号", "检查记录编号"],
      description: "检查的唯一编号",
      example: "JC2024-640104-0001"
    }),
    institution_code: text("机构编码", "institution code", {
      aliases: ["定点医药机构编码", "被检查机构编码"],
      description: "被检查机构的国家医保编码（须在机构表中）",
      example: "H64010400001",
      pattern: /^[HP]\d{11}$/,
      patternMessage: "机构编码应为 H 或 P 加 11 位数字"
    }),
    date: date("检查日期", "date", {
      aliases: ["日期", "检查时间"],
      description: "现场检查日期",
      example: "2024-06-12"
    }),
    kind: oneOf("检查方式", "kind", INSPECTION_KINDS, {
      aliases: ["检查类型", "方式"],
      description: Object.keys(INSPECTION_KINDS).join("、"),
      example: "专项检查"
    }),
    campaign_id: text("行动编号", "campaign id", {
      aliases: ["专项行动", "所属行动"],
      description: "所属专项行动的编号；日常工作可为空",
      optional: true,
      example: "ZX2024"
    }),
    problem_found: bool("是否发现问题", "problem found", {
      aliases: ["发现问题"],
      description: "是或否",
      example: "是"
    }),
    bills_reviewed: count("审核单据数", "bills reviewed", {
      aliases: ["初审单据数"],
      description: "本次检查审核的住院单据份数",
      optional: true,
      example: "320"
    }),
    bills_rereviewed: count("复审单据数", "bills re-reviewed", {
      aliases: ["人工复审单据数"],
      description: "其中人工复审的份数",
      optional: true,
      example: "20"
    })
  },
  rules: [
    {
      name: "rereviewed-within-reviewed",
      sql: (v) =>
        ruleSql(
          `${v("bills_rereviewed")} > ${v("bills_reviewed")}`,
          "复审单据数",
          sqlText("复审单据数大于审核单据数"),
          sqlText("more bills re-reviewed than reviewed")
        ),
      check: (row) =>
        row.bills_reviewed !== null &&
        row.bills_rereviewed !== null &&
        row.bills_rereviewed > row.bills_reviewed
          ? {
              column: "复审单据数",
              reason: "复审单据数大于审核单据数",
              reason_en: "more bills re-reviewed than reviewed"
            }
          : undefined
    }
  ]
});
