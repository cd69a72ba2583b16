import { describe, expect, it } from "vitest";
import { graphToFlow } from "./convert";
import { CHURN, NOTEBOOKS } from "./fixtures";
import { connectionCheck, pathBetween } from "./rules";

const flow = () => graphToFlow(CHURN);

function check(source: string, sourceHandle: string, target: string, targetHandle: string, edges = flow().edges) {
  return connectionCheck({ source, sourceHandle, target, targetHandle }, flow().nodes, edges, NOTEBOOKS);
}

describe("connectionCheck", () => {
  it("accepts an output into a parameter of the same type", () => {
    expect(check("ingest", "out:dataset_path", "report", "in:threshold", [])).toEqual({
      ok: false,
      reason: "'threshold' expects a float, but ingest.dataset_path is a str.",
    });
    expect(check("ingest", "out:row_count", "report", "in:threshold")).toEqual({ ok: true });
  });

  it("refuses a type mismatch with the reason", () => {
    const v = check("ingest", "out:row_count", "train", "in:account");
    expect(v).toEqual({ ok: false, reason: "'account' expects a str, but ingest.row_count is an int." });
  });

  it("treats a fanned-out node's output as a list", () => {
    expect(check("train", "out:auc", "report", "in:threshold", [])).toMatchObject({ ok: false, reason: expect.stringContaining("is a list") });
  });

  it("refuses a wire that would close a cycle, naming it", () => {
    const v = check("report", "out:best_account", "ingest", "in:source");
    expect(v).toEqual({ ok: false, reason: "That would close a cycle: report → ingest → train → report. A workflow must not loop back on itself." });
  });

  it("refuses self-loops, double bindings and param-to-param wires", () => {
    expect(check("ingest", "out:dataset_path", "ingest", "in:source")).toMatchObject({ ok: false, reason: "'ingest' cannot feed itself." });
    expect(check("report", "out:best_account", "train", "in:input_path", [])).toMatchObject({ ok: true });
    expect(check("ingest", "out:row_count", "train", "in:input_path")).toMatchObject({ ok: false, reason: expect.stringContaining("already bound to ingest.dataset_path") });
    expect(check("ingest", "in:source", "train", "in:account")).toMatchObject({ ok: false });
  });

  it("allows ordering-only wires once", () => {
    expect(check("ingest", "dep:out", "report", "dep:in")).toEqual({ ok: true });
    expect(check("ingest", "dep:out", "train", "dep:in")).toMatchObject({ ok: false, reason: "train already runs after ingest." });
  });
});

describe("pathBetween", () => {
  it("finds a path along edges", () => {
    expect(pathBetween(flow().edges, "ingest", "report")).toEqual(["ingest", "train", "report"]);
    expect(pathBetween(flow().edges, "report", "ingest")).toBeNull();
  });
});
