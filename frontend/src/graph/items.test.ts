import { describe, expect, it } from "vitest";
import { cellText, histogramBars, numericOutputs, pagesFor, sortOptions, sortedOutput } from "./items";

describe("items view", () => {
  it("asks only for the pages a scrolled window shows", () => {
    expect(pagesFor(0, 30, 200)).toEqual([0]);
    expect(pagesFor(190, 230, 200)).toEqual([0, 1]);
    expect(pagesFor(4990, 4999, 200)).toEqual([24]);
    expect(pagesFor(5, 2, 200)).toEqual([]);
  });

  it("offers item order, duration and every output both ways", () => {
    const values = sortOptions(["auc"]).map((o) => o.value);
    expect(values).toEqual(["map_index", "-duration", "duration", "-outputs.auc", "outputs.auc"]);
    expect(sortedOutput("-outputs.auc")).toBe("auc");
    expect(sortedOutput("duration")).toBeNull();
  });

  it("finds the numeric outputs and shows values briefly", () => {
    expect(numericOutputs([], [{ auc: 0.8, name: "x" }, { rows: 3 }, {}])).toEqual(["auc", "rows"]);
    expect(numericOutputs([{ name: "auc", type: "float" }, { name: "who", type: "str" }, "plain"], [])).toEqual(["auc"]);
    expect(cellText(0.876543)).toBe("0.8765");
    expect(cellText(12)).toBe("12");
    expect(cellText(null)).toBe("");
    expect(cellText("a".repeat(50), 10)).toBe(`${"a".repeat(9)}…`);
  });

  it("draws the tallest bin at full height", () => {
    const bars = histogramBars([{ start: 0, end: 1, count: 2 }, { start: 1, end: 2, count: 4 }], 100, 50, 0);
    expect(bars.map((b) => [b.x, b.width, b.height, b.y])).toEqual([[0, 50, 25, 25], [50, 50, 50, 0]]);
    expect(histogramBars([{ start: 0, end: 0, count: 0 }], 100, 50)).toEqual([]);
  });
});
