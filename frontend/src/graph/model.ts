// The editor's view of a workflow graph: React Flow-shaped nodes and edges, defined here
// structurally so that the pure graph logic imports no framework.
import type { GraphNode, Output, ParamType } from "../api/types";

export type NodeSpec = Omit<GraphNode, "id" | "position">;

export interface NotebookNodeData {
  node: NodeSpec;
  [key: string]: unknown;
}

export interface FlowNode {
  id: string;
  type?: string;
  position: { x: number; y: number };
  data: NotebookNodeData;
  selected?: boolean;
  width?: number;
  height?: number;
  measured?: { width?: number; height?: number };
}

export interface FlowEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
  selected?: boolean;
  type?: string;
}

// Handle ids: a parameter is an input, a declared output an output; the `dep` pair makes an
// ordering-only edge (run after, pass nothing).
export const DEP_IN = "dep:in";
export const DEP_OUT = "dep:out";
export const paramHandle = (name: string) => `in:${name}`;
export const outputHandle = (name: string) => `out:${name}`;

export type HandleRef = { kind: "param" | "output"; name: string } | { kind: "dep" };

export function handleParse(handle: string | null | undefined): HandleRef | null {
  if (!handle) return null;
  if (handle === DEP_IN || handle === DEP_OUT) return { kind: "dep" };
  if (handle.startsWith("in:")) return { kind: "param", name: handle.slice(3) };
  if (handle.startsWith("out:")) return { kind: "output", name: handle.slice(4) };
  return null;
}

export function outputName(o: Output): string {
  return typeof o === "string" ? o : o.name;
}

export function outputType(o: Output): ParamType | null {
  return typeof o === "string" ? null : (o.type ?? null);
}

// A new node's fields: the API's defaults (workflows.graph.NODE_DEFAULTS, stated in the OpenAPI
// schema; model.test.ts keeps them equal).
export const NODE_DEFAULTS: NodeSpec = {
  label: "",
  description: "",
  notebook: "",
  parameters: {},
  outputs: [],
  retries: 0,
  retry_delay_s: 60,
  timeout_s: null,
  memory_mb: null,
  max_procs: null,
  trigger_rule: "all_success",
  pool: null,
  queue: null,
  map_over: null,
  map_parameter: null,
  max_active: null,
  max_failed_items: null,
  max_failed_ratio: null,
  reuse_kernel: false,
  connections: [],
  cache: true,
};

export const TRIGGER_RULES = [
  "all_success", "all_failed", "all_done", "all_skipped", "one_success", "one_failed", "one_done",
  "none_failed", "none_failed_min_one_success", "none_skipped", "always",
];

export const SCHEDULE_PRESETS = ["@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"];
