// The shared parameter cases (tests/cases/parameters.json) against the editor's mirror of the
// precedence; tests/runtime/test_parameter_cases.py runs the same cases against the backend.
import { describe, expect, it } from "vitest";
import type { GlobalParameter, Json, NotebookParameter, ParamType } from "../api/types";
import shared from "../../../tests/cases/parameters.json";
import { type FlowEdge, type FlowNode, NODE_DEFAULTS, outputHandle, paramHandle } from "./model";
import { globalsReaching, parametersResolve } from "./params";
import { param } from "./fixtures";

interface Case {
  name: string;
  signature: { name: string; type: string; default: Json; required: boolean }[];
  node?: { parameters?: Record<string, Json>; map_over?: string; map_parameter?: string };
  edges?: { output: string; parameter: string; value: Json }[];
  globals?: { name: string; type: string; default: Json }[];
  overrides?: Record<string, Json>;
  expect: Record<string, { layer: string; value?: Json; from?: string } | null>;
}

// Layers whose value the editor knows; map and edge values exist only at run time.
const VALUED = new Set(["override", "node", "global", "default"]);

describe("parametersResolve on the shared cases", () => {
  for (const c of shared.cases as unknown as Case[]) {
    it(c.name, () => {
      const node: FlowNode = {
        id: "n",
        position: { x: 0, y: 0 },
        data: { node: { ...NODE_DEFAULTS, notebook: "nb.ipynb", parameters: {}, ...c.node } },
      };
      const edges: FlowEdge[] = (c.edges ?? []).map((e) => ({
        id: `up.${e.output}->n.${e.parameter}`, source: "up", target: "n",
        sourceHandle: outputHandle(e.output), targetHandle: paramHandle(e.parameter),
      }));
      const signature: NotebookParameter[] = c.signature.map((p) => ({
        ...p, type: p.type as ParamType, help: "", default_source: "",
      }));
      const globals: GlobalParameter[] = (c.globals ?? []).map((g) => ({ ...g, type: g.type as ParamType, help: "" }));
      const resolved = parametersResolve(node, signature, edges, globals, c.overrides ?? {});
      for (const [name, want] of Object.entries(c.expect)) {
        const winner = resolved.find((r) => r.param.name === name)!.winner;
        if (want === null) {
          expect(winner, name).toBeNull();
          continue;
        }
        expect(winner?.layer, name).toBe(want.layer);
        if (VALUED.has(want.layer)) expect(winner?.value, name).toEqual(want.value);
        if (want.from !== undefined) expect(winner?.from, name).toBe(want.from);
      }
    });
  }
});

describe("globalsReaching", () => {
  it("says which globals reach a node and what shadows the others", () => {
    const node = { id: "t", position: { x: 0, y: 0 }, data: { node: { ...NODE_DEFAULTS, notebook: "t.ipynb", parameters: { rate: 0.2 } } } };
    const signature = [param("run_date", "str", ""), param("rate", "float", 0.1), param("path", "str", ""), param("other", "str", "")];
    const globals = [
      { name: "run_date", type: "str", default: "2026-01-01", help: "" },
      { name: "rate", type: "float", default: 0.5, help: "" },
      { name: "path", type: "str", default: null, help: "" },
      { name: "unused", type: "str", default: "x", help: "" },
    ] as GlobalParameter[];
    const wire = { id: "e", source: "i", target: "t", sourceHandle: "out:p", targetHandle: "in:path" };
    expect(globalsReaching(node, signature, [wire], globals)).toEqual([
      { name: "run_date", reaches: true, shadowedBy: null },
      { name: "rate", reaches: false, shadowedBy: "node" },
      { name: "path", reaches: false, shadowedBy: "edge" },
    ]);
  });
});
