// Copy and paste: selected nodes with the wires among them, under fresh ids.
import { bindingEdgeId, depEdgeId } from "./convert";
import type { GlobalParameter } from "../api/types";
import { fanOutPatch, mapOverWire, mapSource, pastedMapOver } from "./fanout";
import { nodeIdFor } from "./ids";
import { type FlowEdge, type FlowNode, handleParse } from "./model";

export interface Clip {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export function clipCopy(nodes: FlowNode[], edges: FlowEdge[]): Clip {
  const chosen = nodes.filter((n) => n.selected);
  const ids = new Set(chosen.map((n) => n.id));
  return {
    nodes: structuredClone(chosen.map(({ id, type, position, data }) => ({ id, type, position, data }))),
    edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => ({ ...e, selected: false })),
  };
}

/** What the paste lands on: a fanned-out node's list must be one it can see there (fanout.ts). */
export interface PasteTarget {
  nodes: FlowNode[];
  edges: FlowEdge[];
  globals: GlobalParameter[];
}

/** The clip's nodes and edges renamed so as not to clash with `taken`, shifted by `offset`,
 * selected; with `target`, a fanned-out node maps over a list it can see there or over none, and
 * `wires` order it after a node of the canvas whose list it keeps. */
export function clipPaste(clip: Clip, taken: Set<string>, offset = { x: 40, y: 40 }, target?: PasteTarget): Clip & { wires: FlowEdge[] } {
  const rename = new Map<string, string>();
  const used = new Set(taken);
  for (const n of clip.nodes) {
    const id = nodeIdFor(n.id, used);
    used.add(id);
    rename.set(n.id, id);
  }
  const nodes = clip.nodes.map((n) => {
    const node = { ...structuredClone(n), id: rename.get(n.id)!, position: { x: n.position.x + offset.x, y: n.position.y + offset.y }, selected: true };
    const spec = node.data.node;
    const over = pastedMapOver(spec.map_over, rename, target?.nodes ?? clip.nodes, target?.globals ?? []);
    if (spec.map_over && !target && !mapSource(spec.map_over)) return node; // a global: nothing to check it against
    if (over !== spec.map_over) {
      node.data.node = { ...spec, ...fanOutPatch(over) };
    }
    return node;
  });
  const edges = clip.edges.map((e) => {
    const source = rename.get(e.source)!;
    const target = rename.get(e.target)!;
    const out = handleParse(e.sourceHandle);
    const inp = handleParse(e.targetHandle);
    const id = out?.kind === "output" && inp?.kind === "param" ? bindingEdgeId(source, out.name, target, inp.name) : depEdgeId(source, target);
    return { ...e, id, source, target, selected: false };
  });
  const wires: FlowEdge[] = [];
  for (const n of nodes) {
    const wire = target && mapOverWire(n.id, n.data.node.map_over, [...target.edges, ...edges, ...wires]);
    if (wire) wires.push(wire);
  }
  return { nodes, edges, wires };
}
