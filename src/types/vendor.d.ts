// Declarations for browser libraries that ship no types of their own (used only by the SDK's re-exports).
declare module "@observablehq/inputs" {
  export function table(data: unknown, options?: Record<string, unknown>): HTMLElement;
  export function select(data: unknown, options?: Record<string, unknown>): HTMLElement;
  export function radio(data: unknown, options?: Record<string, unknown>): HTMLElement;
  export function checkbox(data: unknown, options?: Record<string, unknown>): HTMLElement;
  export function range(extent?: [number, number], options?: Record<string, unknown>): HTMLElement;
  export function text(options?: Record<string, unknown>): HTMLElement;
  export function date(options?: Record<string, unknown>): HTMLElement;
  export function search(data: unknown, options?: Record<string, unknown>): HTMLElement;
  export function button(content?: unknown, options?: Record<string, unknown>): HTMLElement;
  export function toggle(options?: Record<string, unknown>): HTMLElement;
  export function form(inputs: unknown, options?: Record<string, unknown>): HTMLElement;
}

declare module "htl" {
  export function html(strings: TemplateStringsArray, ...values: unknown[]): HTMLElement;
  export function svg(strings: TemplateStringsArray, ...values: unknown[]): SVGElement;
}
