/** 行政区划与报送单位: divisions (GB/T 2260) and the units that report beside them. */
import {count, dataset, oneOf, text, DIVISION_CODE, ruleSql, sqlText} from "./dataset.js";

export const divisions = dataset({
  name: "divisions",
  label: "行政区划",
  label_en: "divisions",
  description: "省、市、县三级区划及与县区并列报送的功能区、市本级；定点机构数是检查覆盖率的分母",
  fileWords: ["区划", "单位", "units"],
  key: ["code"],
  columns: {
    code: text("区划编码", "division code", {
      aliases: ["单位编码", "行政区划代码", "编码"],
      description: "GB/T 2260 六位代码；功能区与市本级用上级前四位加两位本地代码（如 6401ND、640199）",
      example: "640104",
      pattern: DIVISION_CODE,
      patternMessage: "区划编码应为 6 位"
    }),
    name: text("区划名称", "name", {
      aliases: ["单位名称", "名称", "地区"],
      description: "区划或单位的全称",
      example: "兴庆区"
    }),
    parent_code: text("上级编码", "parent code", {
      aliases: ["上级区划编码", "上级单位编码"],
      description: "上级区划的六位编码；省级为空",
      optional: true,
      example: "640100",
      pattern: /^\d{6}$/,
      patternMessage: "上级编码应为 6 位数字"
    }),
    level: oneOf(
      "层级",
      "level",
      {
        省: ["省级", "自治区", "province"],
        市: ["市级", "地级", "city"],
        县: ["县级", "区县", "县区", "county"]
      },
      {
        description: "省、市或县（功能区与市本级按县级填报）",
        example: "县"
      }
    ),
    kind: oneOf(
      "单位类型",
      "kind",
      {行政区划: ["区划", "division"], 功能区: ["开发区", "管委会", "zone"], 市本级: ["本级", "city_own"]},
      {
        aliases: ["类型"],
        description: "行政区划；功能区（不是行政区划，与县区并列报送）；市本级（市局直接管辖，不是全市合计）",
        example: "行政区划"
      }
    ),
    medical_institutions: count("定点医疗机构数", "designated medical institutions", {
      aliases: ["定点医疗机构(家)", "医疗机构数"],
      description: "本区划内定点医疗机构家数（覆盖率分母）",
      optional: true,
      example: "120"
    }),
    retail_pharmacies: count("定点零售药店数", "designated retail pharmacies", {
      aliases: ["定点药店数", "零售药店数"],
      description: "本区划内定点零售药店家数（覆盖率分母）",
      optional: true,
      example: "200"
    }),
    insurance_code: text("医保区划编码", "medical-insurance division code", {
      description: "医保系统使用的区划编码，可与 GB/T 2260 不同",
      optional: true,
      example: "640104"
    }),
    aliases: text("别名", "aliases", {
      description: "报表中出现的其他写法，用顿号或竖线分隔（如 宁东、宁东基地）",
      optional: true,
      example: "兴庆"
    })
  },
  rules: [
    {
      name: "province-has-no-parent",
      sql: (v) =>
        ruleSql(
          `${v("level")} IS DISTINCT FROM '省' AND ${v("parent_code")} IS NULL`,
          "上级编码",
          sqlText("市级、县级单位必须填写上级编码"),
          sqlText("a city or county needs a parent code")
        ),
      check: (row) =>
        row.level !== "省" && row.parent_code === null
          ? {
              column: "上级编码",
              reason: "市级、县级单位必须填写上级编码",
              reason_en: "a city or county needs a parent code"
            }
          : undefined
    }
  ]
});
