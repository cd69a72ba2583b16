// Whether a wire may be drawn, and if not, why, in words the user can act on.
import type { Notebook, ParamType } from "../api/types";
import { type FlowEdge, type FlowNode, handleParse, outputName, outputType } from "./model";

export interface Connection {
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

const a = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

/** The type a node's output carries downstream: a fanned-out node yields the list of its results. */
export function outputTypeOf(node: FlowNode, output: string): ParamType | null {
  if (node.data.node.map_over) return "list";
  const o = node.data.node.outputs.find((x) => outputName(x) === output);
  return o ? outputType(o) : null;
}

/** Types that may flow into a parameter; unknown types pass (the server checks again at run). */
export function typesCompatible(from: ParamType | null, to: ParamType | null): boolean {
  return !from || !to || from === to || (to === "float" && from === "int");
}

/** A path of node ids from `from` to `to` along edges, or null. */
export function pathBetween(edges: FlowEdge[], from: string, to: string): string[] | null {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const parent = new Map<string, string>([[from, from]]);
  const queue = [from];
  while (queue.length) {
    const id = queue.shift()!;
    if (id === to) {
      const path = [to];
      while (path[0] !== from) path.unshift(parent.get(path[0])!);
      return path;
    }
    for (const n of next.get(id) ?? []) {
      if (!parent.has(n)) {
        parent.set(n, id);
        queue.push(n);
      }
    }
  }
  return null;
}

export function connectionCheck(
  c: Connection,
  nodes: FlowNode[],
  edges: FlowEdge[],
  notebooks: Map<string, Notebook>,
): Verdict {
  const src = nodes.find((n) => n.id === c.source);
  const dst = nodes.find((n) => n.id === c.target);
  if (!src || !dst) return { ok: false, reason: "Both ends must be nodes on the canvas." };
  if (src.id === dst.id) return { ok: false, reason: `'${src.id}' cannot feed itself.` };
  const out = handleParse(c.sourceHandle);
  const inp = handleParse(c.targetHandle);
  if (!out || !inp || out.kind === "param" || inp.kind === "output") {
    return { ok: false, reason: "Wires run from an output (right side) to a parameter (left side)." };
  }
  if (out.kind === "dep" && inp.kind === "param") {
    return { ok: false, reason: "'done' only orders two nodes: connect it to 'after'. A parameter takes an output." };
  }
  if (out.kind === "output" && inp.kind === "param") {
    const param = inp.name;
    const taken = edges.find((e) => e.target === dst.id && handleParse(e.targetHandle)?.kind === "param" && e.targetHandle === c.targetHandle);
    if (taken) {
      const from = handleParse(taken.sourceHandle);
      const what = from && from.kind === "output" ? `${taken.source}.${from.name}` : taken.source;
      return { ok: false, reason: `'${param}' of ${dst.id} is already bound to ${what}. Delete that wire first.` };
    }
    const twice = edges.find((e) => e.source === src.id && e.target === dst.id && e.sourceHandle === c.sourceHandle);
    if (twice) {
      return { ok: false, reason: `${src.id}.${out.name} already feeds a parameter of ${dst.id}; an output binds one parameter per node.` };
    }
    const signature = notebooks.get(dst.data.node.notebook)?.parameters ?? [];
    const want = signature.find((p) => p.name === param)?.type ?? null;
    const have = outputTypeOf(src, out.name);
    if (!typesCompatible(have, want)) {
      return { ok: false, reason: `'${param}' expects ${a(want!)}, but ${src.id}.${out.name} is ${a(have!)}.` };
    }
  } else if (edges.some((e) => e.source === src.id && e.target === dst.id)) {
    return { ok: false, reason: `${dst.id} already runs after ${src.id}.` };
  }
  const back = pathBetween(edges, dst.id, src.id);
  if (back) {
    return { ok: false, reason: `That would close a cycle: ${[src.id, ...back].join(" → ")}. A workflow must not loop back on itself.` };
  }
  return { ok: true };
}
