import { describe, expect, it } from "vitest";
import { diffMarks, graphDiff, signatureDiff } from "./diff";
import { CHURN, param } from "./fixtures";

describe("graphDiff", () => {
  it("lists settings, globals, node fields and wires that changed; positions do not count", () => {
    const to = structuredClone(CHURN);
    to.schedule = "@hourly";
    to.parameters = [{ ...to.parameters[0], default: "2026-12-01" }];
    to.nodes[0].position = { x: 999, y: 999 };
    to.nodes[1].retries = 3;
    to.nodes[2].parameters = {};
    to.nodes.push({ ...structuredClone(to.nodes[2]), id: "extra", position: { x: 0, y: 0 } });
    to.edges = [to.edges[0], { source: "train", target: "extra", bind: {} }];
    const text = graphDiff(CHURN, to).map((c) => `${c.kind} ${c.area} ${c.subject}${c.detail ? `: ${c.detail}` : ""}`);
    expect(text).toEqual([
      'changed setting schedule: "@daily" → "@hourly"',
      'changed parameter run_date: default: "2026-11-01" → "2026-12-01"',
      "removed parameter accounts",
      "changed node train: retries: 0 → 3",
      "changed node report: parameter threshold: 0.75 → —",
      "added node extra: report.ipynb",
      "removed wire train.auc → report.aucs",
      "added wire train → extra (order only)",
    ]);
    expect(diffMarks(graphDiff(CHURN, to))).toEqual(new Map([["train", "changed"], ["report", "changed"], ["extra", "added"]]));
  });

  it("is empty between equal graphs", () => {
    expect(graphDiff(CHURN, structuredClone(CHURN))).toEqual([]);
  });
});

describe("signatureDiff", () => {
  it("lists parameters and outputs a newer notebook version adds, removes or changes", () => {
    const from = { parameters: [param("a", "int", 1), param("b", "str", "x")], outputs: [{ name: "o", type: "int" as const }] };
    const to = { parameters: [param("a", "float", 1.5), param("c", "bool", true)], outputs: [{ name: "o", type: "float" as const }, { name: "p", type: null }] };
    expect(signatureDiff(from, to).map((c) => `${c.kind} ${c.area} ${c.subject}${c.detail ? `: ${c.detail}` : ""}`)).toEqual([
      "changed parameter a: type: \"int\" → \"float\"; default: 1 → 1.5",
      "removed parameter b",
      "added parameter c: bool",
      "changed output o: type: \"int\" → \"float\"",
      "added output p: any",
    ]);
  });
});
