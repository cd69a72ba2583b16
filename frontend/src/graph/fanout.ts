// Setting up a fan-out: what "Map over" offers a node, the fan-out a list wire dropped on a
// scalar parameter offers, and what a pasted fanned-out node may still map over.
import type { GlobalParameter, Notebook } from "../api/types";
import { depEdgeId } from "./convert";
import { DEP_IN, DEP_OUT, type FlowEdge, type FlowNode, type NodeSpec, handleParse, outputName } from "./model";
import { type Connection, outputTypeOf, pathBetween } from "./rules";

export interface MapChoice {
  /** map_over's value: a global's name or node.output. */
  value: string;
  /** Where it comes from, for the option's group. */
  from: "global" | "upstream" | "other node";
}

/**
 * Every list a node may map over: the workflow's global list parameters, then the list (or
 * untyped) outputs of the nodes upstream of it, then those of any other node that would not close
 * a cycle (choosing one also orders the two nodes: see mapOverChoose). Nothing needs wiring first.
 */
export function mapChoices(nodeId: string, nodes: FlowNode[], edges: FlowEdge[], globals: GlobalParameter[]): MapChoice[] {
  const choices: MapChoice[] = globals.filter((g) => g.type === "list").map((g) => ({ value: g.name, from: "global" }));
  const others: MapChoice[] = [];
  for (const n of nodes) {
    if (n.id === nodeId || pathBetween(edges, nodeId, n.id)) continue; // itself, or downstream of it
    const from = pathBetween(edges, n.id, nodeId) ? "upstream" : "other node";
    for (const o of n.data.node.outputs) {
      const name = outputName(o);
      if ([null, "list"].includes(outputTypeOf(n, name))) (from === "upstream" ? choices : others).push({ value: `${n.id}.${name}`, from });
    }
  }
  return [...choices, ...others];
}

/**
 * The change that makes a node map over `mapOver` (each item going to `mapParameter`, when given);
 * with null it runs once and also loses the fields that only mean something on a fanned-out node,
 * which validation would otherwise report on it.
 */
export function fanOutPatch(mapOver: string | null, mapParameter?: string | null): Partial<NodeSpec> {
  if (!mapOver) return { map_over: null, map_parameter: null, max_failed_items: null, max_failed_ratio: null, reuse_kernel: false };
  return mapParameter === undefined ? { map_over: mapOver } : { map_over: mapOver, map_parameter: mapParameter };
}

/** The source node of a map_over naming an output (`node.output`), else null (a global). */
export function mapSource(mapOver: string | null): string | null {
  return mapOver && mapOver.includes(".") ? mapOver.slice(0, mapOver.indexOf(".")) : null;
}

/** The wire that makes `nodeId` run after the node whose output it now maps over, if none does yet. */
export function mapOverWire(nodeId: string, mapOver: string | null, edges: FlowEdge[]): FlowEdge | null {
  const source = mapSource(mapOver);
  if (!source || source === nodeId || pathBetween(edges, source, nodeId)) return null;
  return { id: depEdgeId(source, nodeId), source, target: nodeId, sourceHandle: DEP_OUT, targetHandle: DEP_IN };
}

export interface FanOutOffer {
  map_over: string;
  map_parameter: string;
}

/**
 * A wire from a list output to a parameter that takes one value (str, int, float, bool, dict),
 * refused as it is, may instead fan the target out over the list, each item going to that
 * parameter; null when that is not what the wire means (types fit, or the target already fans out).
 */
export function fanOutOffer(c: Connection, nodes: FlowNode[], edges: FlowEdge[], notebooks: Map<string, Notebook>): FanOutOffer | null {
  const src = nodes.find((n) => n.id === c.source);
  const dst = nodes.find((n) => n.id === c.target);
  const out = handleParse(c.sourceHandle);
  const inp = handleParse(c.targetHandle);
  if (!src || !dst || src.id === dst.id || out?.kind !== "output" || inp?.kind !== "param") return null;
  if (dst.data.node.map_over || outputTypeOf(src, out.name) !== "list") return null;
  const want = notebooks.get(dst.data.node.notebook)?.parameters.find((p) => p.name === inp.name)?.type ?? null;
  if (!want || want === "list") return null;
  if (pathBetween(edges, dst.id, src.id)) return null; // it would loop back
  return { map_over: `${src.id}.${out.name}`, map_parameter: inp.name };
}

/**
 * A pasted node's fan-out, given how the paste renamed nodes: a list of a pasted node follows its
 * new id; a list of a node or global the canvas still has stays; any other (a node or a global
 * it cannot see here) is cleared with the fields only a fanned-out node has (fanOutPatch), rather
 * than left pointing at nothing.
 */
export function pastedMapOver(mapOver: string | null, rename: Map<string, string>, canvas: FlowNode[], globals: GlobalParameter[]): string | null {
  if (!mapOver) return null;
  const source = mapSource(mapOver);
  if (source === null) return globals.some((g) => g.name === mapOver && g.type === "list") ? mapOver : null;
  const output = mapOver.slice(source.length + 1);
  if (rename.has(source)) return `${rename.get(source)}.${output}`;
  const node = canvas.find((n) => n.id === source);
  return node && node.data.node.outputs.some((o) => outputName(o) === output) ? mapOver : null;
}
