/** 专项行动: campaigns, their phase deadlines and targets. */
import {amount, count, dataset, date, percent, text, ruleSql, sqlText} from "./dataset.js";

export const campaigns = dataset({
  name: "campaigns",
  label: "专项行动",
  label_en: "campaigns",
  description: "专项行动的起止日期、阶段截止日期和目标（覆盖率、复审比例、大案标准与报送时限）",
  fileWords: ["行动", "campaign"],
  key: ["id"],
  columns: {
    id: text("行动编号", "campaign id", {
      aliases: ["编号"],
      description: "行动的唯一编号",
      example: "ZX2024"
    }),
    name: text("行动名称", "name", {
      aliases: ["名称"],
      description: "行动全称",
      example: "2024年打击欺诈骗保专项整治行动"
    }),
    start_date: date("开始日期", "start date", {description: "行动开始日期", example: "2024-05-15"}),
    end_date: date("结束日期", "end date", {description: "行动结束日期", example: "2024-11-30"}),
    mobilize_by: date("动员部署截止", "mobilization deadline", {
      description: "动员部署阶段截止日期",
      example: "2024-05-31",
      optional: true
    }),
    self_inspect_by: date("自查自纠截止", "self-inspection deadline", {
      description: "自查自纠阶段截止日期",
      example: "2024-06-30",
      optional: true
    }),
    rectify_by: date("集中整治截止", "rectification deadline", {
      description: "集中整治阶段截止日期",
      example: "2024-10-31",
      optional: true
    }),
    summary_by: date("全面总结截止", "summary deadline", {
      description: "全面总结阶段截止日期",
      example: "2024-11-30",
      optional: true
    }),
    coverage_target_1: percent("第一阶段覆盖率目标", "first coverage target", {
      aliases: ["覆盖率目标1"],
      description: "现场检查覆盖率目标（%）",
      example: "80"
    }),
    coverage_deadline_1: date("第一阶段目标截止", "first coverage deadline", {
      aliases: ["覆盖率目标1截止"],
      description: "第一阶段覆盖率目标的截止日期",
      example: "2024-08-31"
    }),
    coverage_target_2: percent("第二阶段覆盖率目标", "second coverage target", {
      aliases: ["覆盖率目标2"],
      description: "现场检查覆盖率目标（%）",
      example: "100"
    }),
    coverage_deadline_2: date("第二阶段目标截止", "second coverage deadline", {
      aliases: ["覆盖率目标2截止"],
      description: "第二阶段覆盖率目标的截止日期",
      example: "2024-10-31"
    }),
    rereview_target: percent("住院单据复审比例目标", "re-review target", {
      aliases: ["复审比例目标"],
      description: "住院单据人工复审比例下限（%）",
      example: "5"
    }),
    big_case_threshold: amount("大案金额标准", "big-case threshold", {
      aliases: ["大案标准"],
      description: "达到此金额的案件须限期上报（元）",
      example: "50000"
    }),
    big_case_report_days: count("大案报送时限", "big-case reporting days", {
      aliases: ["大案报送工作日"],
      description: "大案办结后上报的工作日数",
      example: "2"
    })
  },
  rules: [
    {
      name: "campaign-dates-ordered",
      sql: (v) =>
        ruleSql(
          `${v("end_date")} < ${v("start_date")}`,
          "结束日期",
          sqlText("结束日期早于开始日期"),
          sqlText("end date before start date")
        ),
      check: (row) =>
        row.start_date !== null && row.end_date !== null && row.end_date < row.start_date
          ? {column: "结束日期", reason: "结束日期早于开始日期", reason_en: "end date before start date"}
          : undefined
    },
    {
      name: "coverage-deadlines-ordered",
      sql: (v) =>
        ruleSql(
          `${v("coverage_deadline_2")} < ${v("coverage_deadline_1")}`,
          "第二阶段目标截止",
          sqlText("第二阶段截止日期早于第一阶段"),
          sqlText("second deadline before the first")
        ),
      check: (row) =>
        row.coverage_deadline_1 !== null &&
        row.coverage_deadline_2 !== null &&
        row.coverage_deadline_2 < row.coverage_deadline_1
          ? {
              column: "第二阶段目标截止",
              reason: "第二阶段截止日期早于第一阶段",
              reason_en: "second deadline before the first"
            }
          : undefined
    }
  ]
});
