// Pure helpers of the items view (editor/ItemsTable.tsx): which pages of the items endpoint a
// scrolled window needs, the sorts it offers, and the histogram's bars.
import type { Json, Output } from "../api/types";
import { outputName, outputType } from "./model";

/** The pages (0-based, `size` items each) that hold rows `first`..`last` (inclusive). */
export function pagesFor(first: number, last: number, size: number): number[] {
  if (last < first || last < 0) return [];
  const pages = [];
  for (let p = Math.floor(Math.max(0, first) / size); p <= Math.floor(last / size); p++) pages.push(p);
  return pages;
}

export interface SortOption { value: string; label: string }

/** The items endpoint's sorts for a node with these outputs: item order, duration, each output, both ways. */
export function sortOptions(outputs: string[]): SortOption[] {
  const keys: [string, string][] = [["duration", "duration"], ...outputs.map((o): [string, string] => [`outputs.${o}`, o])];
  return [{ value: "map_index", label: "item order" },
    ...keys.flatMap(([key, label]) => [
      { value: `-${key}`, label: `${label}, highest first` }, { value: key, label: `${label}, lowest first` }])];
}

/** The output a sort orders by (`-outputs.auc` → auc), else null. */
export function sortedOutput(sort: string): string | null {
  const key = sort.replace(/^-/, "");
  return key.startsWith("outputs.") ? key.slice("outputs.".length) : null;
}

/** The outputs a histogram may count: those the node declares as int or float, and any whose
 * value is a number in these items' outputs (an output declared without a type). */
export function numericOutputs(declared: Output[], outputs: Record<string, Json>[]): string[] {
  const names = new Set(declared.filter((o) => ["int", "float"].includes(outputType(o) ?? "")).map(outputName));
  for (const o of outputs) for (const [k, v] of Object.entries(o)) if (typeof v === "number") names.add(k);
  return [...names].sort();
}

/** A value as a table cell shows it: numbers to 4 significant digits, the rest as JSON, cut at `max`. */
export function cellText(v: Json | undefined, max = 40): string {
  if (v === undefined || v === null) return "";
  const text = typeof v === "number" ? String(Number.isInteger(v) ? v : Number(v.toPrecision(4)))
    : typeof v === "string" ? v : JSON.stringify(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export interface Bin { start: number; end: number; count: number }
export interface Bar { x: number; y: number; width: number; height: number; bin: Bin }

/** Bars of a histogram in a `width` × `height` box, the tallest bin filling the height. */
export function histogramBars(bins: Bin[], width: number, height: number, gap = 1): Bar[] {
  const most = Math.max(0, ...bins.map((b) => b.count));
  if (!bins.length || !most) return [];
  const step = width / bins.length;
  return bins.map((bin, i) => {
    const h = (bin.count / most) * height;
    return { x: i * step + gap / 2, y: height - h, width: Math.max(1, step - gap), height: h, bin };
  });
}
