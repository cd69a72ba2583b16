// Which value a node's parameter gets, mirroring backend/runtime/parameters.py:
// map > override > node > edge > global > default. tests/cases/parameters.json drives the tests
// of both (params.test.ts here, tests/runtime/test_parameter_cases.py there).
import type { GlobalParameter, Json, NotebookParameter } from "../api/types";
import { type FlowEdge, type FlowNode, type NodeSpec, handleParse } from "./model";

export const PRECEDENCE = ["map", "override", "node", "edge", "global", "default"] as const;
export type Layer = (typeof PRECEDENCE)[number];

export interface ParamValue {
  layer: Layer;
  value?: Json;
  from?: string; // for edge and map: where the value comes from, e.g. "ingest.dataset_path"
}

export interface ParamResolution {
  param: NotebookParameter;
  layers: ParamValue[]; // every layer that supplies a value, highest first
  winner: ParamValue | null; // null: nothing supplies one (an error if the param is required)
}

/** The parameter receiving each item of a fanned-out node, as runtime.parameters.fan_out says:
 * map_parameter, else the one named like the global or output map_over names; null: no fan-out. */
export function mapTarget(spec: Pick<NodeSpec, "map_over" | "map_parameter">): string | null {
  return spec.map_over ? spec.map_parameter || spec.map_over.split(".").pop()! : null;
}

export function parametersResolve(
  node: FlowNode,
  signature: NotebookParameter[],
  incoming: FlowEdge[],
  globals: GlobalParameter[],
  overrides: Record<string, Json> = {},
): ParamResolution[] {
  const spec = node.data.node;
  const target = mapTarget(spec);
  return signature.map((param) => {
    const layers: ParamValue[] = [];
    if (target === param.name) layers.push({ layer: "map", from: spec.map_over! });
    if (param.name in overrides) layers.push({ layer: "override", value: overrides[param.name] });
    if (param.name in spec.parameters) layers.push({ layer: "node", value: spec.parameters[param.name] });
    const wire = incoming.find((e) => e.target === node.id && e.targetHandle === `in:${param.name}`);
    if (wire) {
      const out = handleParse(wire.sourceHandle);
      layers.push({ layer: "edge", from: `${wire.source}.${out && out.kind === "output" ? out.name : "?"}` });
    }
    const g = globals.find((x) => x.name === param.name);
    if (g && g.default !== null && g.default !== undefined) layers.push({ layer: "global", value: g.default, from: g.name });
    if (!param.required) layers.push({ layer: "default", value: param.default });
    return { param, layers, winner: layers[0] ?? null };
  });
}

export interface GlobalReach {
  name: string;
  reaches: boolean; // the global's value (its default, or the run's value) gets to the parameter
  shadowedBy: "map" | "node" | "edge" | null; // else what the parameter takes instead
}

/** The workflow's global parameters a node's notebook takes, and whether each reaches it. */
export function globalsReaching(node: FlowNode, signature: NotebookParameter[], incoming: FlowEdge[], globals: GlobalParameter[]): GlobalReach[] {
  const spec = node.data.node;
  const target = mapTarget(spec);
  return globals
    .filter((g) => signature.some((p) => p.name === g.name))
    .map((g) => {
      const shadowedBy = target === g.name ? "map"
        : g.name in spec.parameters ? "node"
        : incoming.some((e) => e.target === node.id && e.targetHandle === `in:${g.name}`) ? "edge"
        : null;
      return { name: g.name, reaches: shadowedBy === null, shadowedBy };
    });
}
