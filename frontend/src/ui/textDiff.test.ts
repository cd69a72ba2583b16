import { describe, expect, it } from "vitest";
import { lineDiff, notebookLines } from "./textDiff";

describe("lineDiff", () => {
  it("keeps common lines and marks the rest", () => {
    expect(lineDiff(["a", "b", "c"], ["a", "x", "c", "d"])).toEqual([
      { kind: "same", text: "a" }, { kind: "added", text: "x" }, { kind: "removed", text: "b" },
      { kind: "same", text: "c" }, { kind: "added", text: "d" },
    ]);
  });

  it("reads a notebook's cells with their tags", () => {
    expect(notebookLines({ cells: [{ cell_type: "code", source: ["x = 1\n", "y = 2"], metadata: { tags: ["parameters"] } }] }))
      .toEqual(["── cell 1: code [parameters]", "x = 1", "y = 2"]);
  });
});
