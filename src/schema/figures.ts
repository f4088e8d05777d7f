/** 通报数字: figures as a circular publishes them, with their unit and qualifiers kept. */
import {dataset, division, text} from "./dataset.js";

export const figures = dataset({
  name: "figures",
  label: "通报数字",
  label_en: "published figures",
  description: "通报、总结中公布的数字，保留原单位和说明（如“9千多份”是下限）",
  fileWords: ["通报", "figure"],
  key: ["unit_code", "figure"],
  columns: {
    unit_code: division("unit_code", "unit code", {
      aliases: ["单位编码", "区划编码"],
      description: "单位的区划编码、名称或别名",
      example: "640105"
    }),
    unit_name: text("unit_name", "unit name", {
      aliases: ["单位名称"],
      description: "通报中的单位名称",
      example: "西夏区"
    }),
    figure: text("figure", "figure", {
      aliases: ["指标"],
      description: "指标名（英文标识）",
      example: "amount_recovered"
    }),
    value: text("value", "value", {
      aliases: ["数值"],
      description: "通报数值（十进制文本，保持原样）",
      example: "24253.33",
      pattern: /^-?\d+(\.\d+)?$/,
      patternMessage: "数值应为十进制数"
    }),
    unit: text("unit", "unit", {
      aliases: ["单位"],
      description: "计量单位：元、家、人次……",
      optional: true,
      example: "元"
    }),
    note: text("note", "note", {
      aliases: ["说明", "备注"],
      description: "原文表述与说明",
      optional: true,
      example: "fully recovered"
    })
  }
});
