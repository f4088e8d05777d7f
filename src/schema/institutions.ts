/** 定点医药机构: designated medical institutions and retail pharmacies. */
import {dataset, division, oneOf, text, ruleSql, sqlText} from "./dataset.js";

export const INSTITUTION_KINDS = {
  医院: ["综合医院", "专科医院", "中医医院", "hospital"],
  基层医疗机构: ["乡镇卫生院", "社区卫生服务中心", "卫生院", "primary care"],
  村卫生室: ["村卫生室/服务站", "服务站", "社区卫生服务站", "卫生室"],
  诊所: ["门诊部", "诊所/门诊部", "clinic"],
  零售药店: ["药店", "定点零售药店", "pharmacy"]
} as const;

export const institutions = dataset({
  name: "institutions",
  label: "定点医药机构",
  label_en: "institutions",
  description: "定点医疗机构和定点零售药店",
  fileWords: ["机构", "医药机构"],
  key: ["code"],
  columns: {
    code: text("机构编码", "institution code", {
      aliases: ["定点医药机构编码", "医保机构编码", "机构代码"],
      description: "国家医保定点医药机构编码：H（医疗机构）或 P（药店）加 11 位数字",
      example: "H64010400001",
      pattern: /^[HP]\d{11}$/,
      patternMessage: "机构编码应为 H 或 P 加 11 位数字"
    }),
    name: text("机构名称", "name", {
      aliases: ["名称", "定点机构名称"],
      description: "机构全称",
      example: "银川市第一人民医院"
    }),
    division_code: division("所属区划", "division", {
      aliases: ["区划编码", "所在区县", "区县", "所属地区"],
      description: "区划编码、名称或别名",
      example: "640104"
    }),
    kind: oneOf("机构类型", "kind", INSTITUTION_KINDS, {
      aliases: ["类型"],
      description: "医院、基层医疗机构、村卫生室、诊所或零售药店",
      example: "医院"
    }),
    level: oneOf(
      "机构等级",
      "level",
      {
        三级: ["三甲", "三乙", "三级甲等", "三级乙等"],
        二级: ["二甲", "二乙", "二级甲等", "二级乙等"],
        一级: ["一甲", "一级甲等"],
        未定级: ["无等级", "未评级"]
      },
      {
        aliases: ["等级", "医院等级"],
        description: "三级、二级、一级或未定级（药店填未定级）",
        example: "三级"
      }
    ),
    ownership: oneOf(
      "经营性质",
      "ownership",
      {公立: ["公办", "public"], 民营: ["私立", "民办", "社会办", "private"]},
      {
        aliases: ["性质", "所有制"],
        description: "公立或民营",
        example: "公立"
      }
    )
  },
  rules: [
    {
      name: "pharmacy-code-prefix",
      sql: (v) =>
        ruleSql(
          `${v("code")} IS NOT NULL AND coalesce(${v("kind")} = '零售药店', false) <> starts_with(${v("code")}, 'P')`,
          "机构编码",
          sqlText("零售药店的编码以 P 开头，医疗机构以 H 开头"),
          sqlText("pharmacy codes start with P, medical institutions with H")
        ),
      check: (row) =>
        row.code !== null && (row.kind === "零售药店") !== row.code.startsWith("P")
          ? {
              column: "机构编码",
              reason: "零售药店的编码以 P 开头，医疗机构以 H 开头",
              reason_en: "pharmacy codes start with P, medical institutions with H"
            }
          : undefined
    }
  ]
});
