// Observable Framework configuration. The site is built with no network access but the npm
// registry and served from its own origin only: no web fonts, no search index, no CDN imports.
import {districtPaths} from "./loaders/fundwatch-db.js";

export default {
  root: "reports",
  output: "dist",
  title: "医保基金监管分析",
  pages: [
    {name: "总览", path: "/"},
    {name: "地区对比", path: "/districts"},
    {name: "追回金额", path: "/recovery"},
    {name: "工作进度", path: "/progress"},
    {name: "数据质量", path: "/quality"}
  ],
  // The default head links Google Fonts; the intranet has no internet. Fonts come from the system.
  globalStylesheets: [],
  style: "style.css",
  toc: {label: "本页目录"},
  pager: false,
  search: false,
  cleanUrls: true,
  // One page per city and county (reports/district/[code].md), listed from the input's divisions.
  dynamicPaths: async function* () {
    yield* await districtPaths(import.meta.dirname);
  },
  footer: "医保基金监管分析 · Fundwatch · 数据在浏览器本地计算，不向任何外部地址发送请求"
};
