// What changed between two versions of a workflow, as a list a person reads: settings, global
// parameters, nodes (field by field; positions aside) and wires.
import type { Graph, GraphEdge, GraphNode, Notebook } from "../api/types";
import { valueShort } from "./values";

export type ChangeKind = "added" | "removed" | "changed";

export interface Change {
  kind: ChangeKind;
  area: "setting" | "parameter" | "node" | "wire" | "output";
  subject: string; // what changed: a setting, a global's or a node's name, a wire
  detail: string; // "old → new", or "" for added and removed things
  node?: string; // the node it concerns, to mark it on the canvas
}

const SETTINGS = ["name", "description", "schedule", "start_date", "catchup", "tags", "alerts"] as const;
const show = (v: unknown) => (v === undefined ? "—" : valueShort(v as never, 40));
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const arrow = (a: unknown, b: unknown) => `${show(a)} → ${show(b)}`;

function byKey<T>(items: T[], key: (t: T) => string): Map<string, T> {
  return new Map(items.map((t) => [key(t), t]));
}

function nodeChanges(a: GraphNode, b: GraphNode): string[] {
  const out: string[] = [];
  const { id: _ia, position: _pa, parameters: pa = {}, ...restA } = a;
  const { id: _ib, position: _pb, parameters: pb = {}, ...restB } = b;
  for (const name of new Set([...Object.keys(pa), ...Object.keys(pb)])) {
    if (!same(pa[name], pb[name])) out.push(`parameter ${name}: ${arrow(pa[name], pb[name])}`);
  }
  const fields = new Set([...Object.keys(restA), ...Object.keys(restB)]) as Set<keyof typeof restA>;
  for (const f of fields) if (!same(restA[f], restB[f])) out.push(`${f}: ${arrow(restA[f], restB[f])}`);
  return out;
}

function wires(edges: GraphEdge[]): Map<string, { source: string; target: string }> {
  const out = new Map<string, { source: string; target: string }>();
  for (const e of edges) {
    const bind = Object.entries(e.bind ?? {});
    if (!bind.length) out.set(`${e.source} → ${e.target} (order only)`, e);
    for (const [output, param] of bind) out.set(`${e.source}.${output} → ${e.target}.${param}`, e);
  }
  return out;
}

export function graphDiff(from: Graph, to: Graph): Change[] {
  const changes: Change[] = [];
  for (const key of SETTINGS) {
    if (!same(from[key], to[key])) changes.push({ kind: "changed", area: "setting", subject: key, detail: arrow(from[key], to[key]) });
  }
  const ga = byKey(from.parameters ?? [], (g) => g.name);
  const gb = byKey(to.parameters ?? [], (g) => g.name);
  for (const [name, g] of ga) {
    const h = gb.get(name);
    if (!h) changes.push({ kind: "removed", area: "parameter", subject: name, detail: "" });
    else if (!same(g, h)) changes.push({ kind: "changed", area: "parameter", subject: name, detail: (["type", "default", "help"] as const).filter((k) => !same(g[k], h[k])).map((k) => `${k}: ${arrow(g[k], h[k])}`).join("; ") });
  }
  for (const name of gb.keys()) if (!ga.has(name)) changes.push({ kind: "added", area: "parameter", subject: name, detail: "" });
  const na = byKey(from.nodes, (n) => n.id);
  const nb = byKey(to.nodes, (n) => n.id);
  for (const [id, n] of na) {
    const m = nb.get(id);
    if (!m) changes.push({ kind: "removed", area: "node", subject: id, detail: n.notebook, node: id });
    else for (const detail of nodeChanges(n, m)) changes.push({ kind: "changed", area: "node", subject: id, detail, node: id });
  }
  for (const [id, n] of nb) if (!na.has(id)) changes.push({ kind: "added", area: "node", subject: id, detail: n.notebook, node: id });
  const wa = wires(from.edges);
  const wb = wires(to.edges);
  for (const [w, e] of wa) if (!wb.has(w)) changes.push({ kind: "removed", area: "wire", subject: w, detail: "", node: e.target });
  for (const [w, e] of wb) if (!wa.has(w)) changes.push({ kind: "added", area: "wire", subject: w, detail: "", node: e.target });
  return changes;
}

/** How each node of the `to` version is marked on the canvas: added, or changed (itself or its incoming wires). */
export function diffMarks(changes: Change[]): Map<string, "added" | "changed"> {
  const marks = new Map<string, "added" | "changed">();
  for (const c of changes) {
    if (!c.node || c.kind === "removed" && c.area === "node") continue;
    if (c.area === "node" && c.kind === "added") marks.set(c.node, "added");
    else if (!marks.has(c.node)) marks.set(c.node, "changed");
  }
  return marks;
}

type Signature = Pick<Notebook, "parameters" | "outputs">;

/** What a newer notebook version changes in a node's signature: parameters and discovered outputs. */
export function signatureDiff(from: Signature, to: Signature): Change[] {
  const changes: Change[] = [];
  const pa = byKey(from.parameters, (p) => p.name);
  const pb = byKey(to.parameters, (p) => p.name);
  for (const [name, p] of pa) {
    const q = pb.get(name);
    if (!q) changes.push({ kind: "removed", area: "parameter", subject: name, detail: "" });
    else {
      const what = (["type", "default", "required"] as const).filter((k) => !same(p[k], q[k])).map((k) => `${k}: ${arrow(p[k], q[k])}`);
      if (what.length) changes.push({ kind: "changed", area: "parameter", subject: name, detail: what.join("; ") });
    }
  }
  for (const [name, q] of pb) if (!pa.has(name)) changes.push({ kind: "added", area: "parameter", subject: name, detail: q.type ?? "any" });
  const oa = byKey(from.outputs ?? [], (o) => o.name);
  const ob = byKey(to.outputs ?? [], (o) => o.name);
  for (const name of oa.keys()) if (!ob.has(name)) changes.push({ kind: "removed", area: "output", subject: name, detail: "" });
  for (const [name, o] of ob) {
    const old = oa.get(name);
    if (!old) changes.push({ kind: "added", area: "output", subject: name, detail: o.type ?? "any" });
    else if (old.type !== o.type) changes.push({ kind: "changed", area: "output", subject: name, detail: `type: ${arrow(old.type, o.type)}` });
  }
  return changes;
}
