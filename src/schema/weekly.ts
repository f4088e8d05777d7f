/** 周报: the cumulative figures a district files each Friday, reconciled against the case records. */
import {amount, count, dataset, date, division, text, ruleSql, sqlText} from "./dataset.js";

export const weeklyReports = dataset({
  name: "weekly_reports",
  label: "周报",
  label_en: "weekly reports",
  description: "各区划每周五报送的累计数字，用于与案件明细核对",
  fileWords: ["周报", "weekly"],
  key: ["division_code", "week_ending"],
  columns: {
    division_code: division("区划", "division", {
      aliases: ["区划编码", "填报单位", "单位", "地区"],
      description: "区划编码、名称或别名",
      example: "兴庆区"
    }),
    week_ending: date("统计截止日期", "week ending", {
      aliases: ["截止日期", "周五日期"],
      description: "本周统计截止的星期五",
      example: "2024-06-14"
    }),
    campaign_id: text("行动编号", "campaign id", {
      aliases: ["专项行动"],
      description: "所属专项行动",
      optional: true,
      example: "ZX2024"
    }),
    institutions_inspected: count("累计检查机构数", "institutions inspected", {
      aliases: ["检查机构数", "已检查机构"],
      description: "行动开始以来检查的机构家数（去重）",
      example: "35"
    }),
    problems_found: count("累计发现问题机构数", "institutions with problems", {
      aliases: ["发现问题机构数"],
      description: "其中发现问题的机构家数",
      example: "12"
    }),
    amount_recovered: amount("累计追回金额", "amount recovered", {
      aliases: ["追回金额", "追回拒付扣回金额"],
      description: "追回、拒付、扣回合计（元；表头写万元时按万元换算）",
      example: "1826900.00"
    }),
    amount_fined: amount("累计罚款金额", "amount fined", {
      aliases: ["罚款金额"],
      description: "罚款合计（元）",
      optional: true,
      example: "0"
    })
  },
  rules: [
    {
      name: "week-ends-on-friday",
      sql: (v) =>
        ruleSql(
          `dayofweek(${v("week_ending")}) <> 5`,
          "统计截止日期",
          `'统计截止日期应为星期五：' || strftime(${v("week_ending")}, '%Y-%m-%d')`,
          `'week must end on a Friday: ' || strftime(${v("week_ending")}, '%Y-%m-%d')`
        ),
      check: (row) =>
        row.week_ending !== null && new Date(`${row.week_ending}T00:00:00Z`).getUTCDay() !== 5
          ? {
              column: "统计截止日期",
              reason: `统计截止日期应为星期五：${row.week_ending}`,
              reason_en: `week must end on a Friday: ${row.week_ending}`
            }
          : undefined
    },
    {
      name: "problems-within-inspected",
      sql: (v) =>
        ruleSql(
          `${v("problems_found")} > ${v("institutions_inspected")}`,
          "累计发现问题机构数",
          sqlText("发现问题机构数大于检查机构数"),
          sqlText("more institutions with problems than inspected")
        ),
      check: (row) =>
        row.problems_found !== null &&
        row.institutions_inspected !== null &&
        row.problems_found > row.institutions_inspected
          ? {
              column: "累计发现问题机构数",
              reason: "发现问题机构数大于检查机构数",
              reason_en: "more institutions with problems than inspected"
            }
          : undefined
    }
  ]
});
