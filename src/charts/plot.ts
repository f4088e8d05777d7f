/**
 * Observable Plot for pages served under the site's Content-Security-Policy (scripts/csp.ts), which
 * refuses `<style>` elements made by scripts. Plot puts one into every chart and legend it draws
 * (`:where(.plot-d6a7b5) {display: block; max-width: 100%…}`); the browser would refuse it and report
 * a violation. This `Plot` is Plot itself, except that `plot()` and `legend()` remove those elements
 * before the chart reaches the page; the site's style sheet (reports/style.css) carries the same rules
 * for Plot's default class name, so charts look as before.
 */
import * as PlotLibrary from "@observablehq/plot";

/** Removes the `<style>` elements inside `node` (Plot's default styles); returns `node`. */
export function withoutStyleElements<T extends Element>(node: T): T {
  for (const style of Array.from(node.querySelectorAll("style"))) style.remove();
  return node;
}

/** Observable Plot, whose `plot()` and `legend()` make no `<style>` element (see the module comment). */
export const Plot: typeof PlotLibrary = Object.freeze({
  ...PlotLibrary,
  plot: ((options) => withoutStyleElements(PlotLibrary.plot(options))) as typeof PlotLibrary.plot,
  legend: ((options) => withoutStyleElements(PlotLibrary.legend(options))) as typeof PlotLibrary.legend
});
