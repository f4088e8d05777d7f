/** 处理结果: what was done about a finding or an inspection. */
import {DISPOSITION_ACTIONS, MONEY_ACTIONS} from "./actions.js";
import {amount, dataset, date, oneOf, text, ruleSql, sqlText} from "./dataset.js";

export {DISPOSITION_ACTIONS, MONEY_ACTIONS, RECOVERY_ACTIONS} from "./actions.js";

export const dispositions = dataset({
  name: "dispositions",
  label: "处理结果",
  label_en: "dispositions",
  description:
    "对问题或检查的处理：追回、拒付、扣回、罚款等资金处理，约谈至解除协议等协议处理，行政处罚与移交",
  fileWords: ["处理", "disposition"],
  key: ["id"],
  columns: {
    id: text("处理编号", "disposition id", {
      aliases: ["编号"],
      description: "处理的唯一编号",
      example: "CL2024-0001"
    }),
    finding_id: text("问题编号", "finding id", {
      description: "所处理的问题（与检查编号至少填一个）",
      optional: true,
      example: "WT2024-0001"
    }),
    inspection_id: text("检查编号", "inspection id", {
      description: "所处理的检查（不针对单个问题时填写）",
      optional: true,
      example: "JC2024-640104-0001"
    }),
    action: oneOf("处理方式", "action", DISPOSITION_ACTIONS, {
      aliases: ["处理类型", "处理措施"],
      description: Object.keys(DISPOSITION_ACTIONS).join("、"),
      example: "追回"
    }),
    amount: amount("处理金额", "amount", {
      aliases: ["金额"],
      description: "追回、拒付、扣回、罚款的金额（元）；其他处理不填",
      optional: true,
      example: "12946.92"
    }),
    decided_on: date("处理日期", "decided on", {
      aliases: ["作出处理日期", "办结日期"],
      description: "作出处理决定的日期",
      example: "2024-07-02"
    }),
    reported_on: date("上报日期", "reported upward on", {
      aliases: ["报送日期"],
      description: "向上级报送的日期；未报送为空",
      optional: true,
      example: "2024-07-03"
    })
  },
  rules: [
    {
      name: "finding-or-inspection",
      sql: (v) =>
        ruleSql(
          `${v("finding_id")} IS NULL AND ${v("inspection_id")} IS NULL`,
          "问题编号",
          sqlText("问题编号和检查编号至少填写一个"),
          sqlText("a finding id or an inspection id is required")
        ),
      check: (row) =>
        row.finding_id === null && row.inspection_id === null
          ? {
              column: "问题编号",
              reason: "问题编号和检查编号至少填写一个",
              reason_en: "a finding id or an inspection id is required"
            }
          : undefined
    },
    {
      name: "money-action-has-amount",
      sql: (v) =>
        ruleSql(
          `coalesce(${v("action")} IN (${MONEY_ACTIONS.map(sqlText).join(", ")}), false) AND ${v("amount")} IS NULL`,
          "处理金额",
          `'「' || coalesce(${v("action")}, 'null') || '」必须填写金额'`,
          `'"' || coalesce(${v("action")}, 'null') || '" needs an amount'`
        ),
      check: (row) =>
        (MONEY_ACTIONS as readonly string[]).includes(row.action ?? "") && row.amount === null
          ? {
              column: "处理金额",
              reason: `「${row.action}」必须填写金额`,
              reason_en: `"${row.action}" needs an amount`
            }
          : undefined
    },
    {
      name: "amount-only-for-money-actions",
      sql: (v) =>
        ruleSql(
          `NOT coalesce(${v("action")} IN (${MONEY_ACTIONS.map(sqlText).join(", ")}), false) AND ${v("amount")} IS NOT NULL`,
          "处理金额",
          `'「' || coalesce(${v("action")}, 'null') || '」不是资金处理，不应填写金额'`,
          `'"' || coalesce(${v("action")}, 'null') || '" carries no amount'`
        ),
      check: (row) =>
        !(MONEY_ACTIONS as readonly string[]).includes(row.action ?? "") && row.amount !== null
          ? {
              column: "处理金额",
              reason: `「${row.action}」不是资金处理，不应填写金额`,
              reason_en: `"${row.action}" carries no amount`
            }
          : undefined
    },
    {
      name: "reported-after-decided",
      sql: (v) =>
        ruleSql(
          `${v("reported_on")} < ${v("decided_on")}`,
          "上报日期",
          sqlText("上报日期早于处理日期"),
          sqlText("reported before it was decided")
        ),
      check: (row) =>
        row.reported_on !== null && row.decided_on !== null && row.reported_on < row.decided_on
          ? {column: "上报日期", reason: "上报日期早于处理日期", reason_en: "reported before it was decided"}
          : undefined
    }
  ]
});
