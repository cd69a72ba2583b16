// The one store: session, catalog, the workflow being edited, its run, and transient UI.
import { type Connection, type EdgeChange, type NodeChange, applyEdgeChanges, applyNodeChanges } from "@xyflow/react";
import { create } from "zustand";
import { ApiError } from "./api/client";
import { endpoints } from "./api/endpoints";
import type { Conflict, GraphError, Json, Notebook, RunDetail, RunSelection, User, WorkflowDetail } from "./api/types";
import { type Clip, clipCopy, clipPaste } from "./graph/clipboard";
import { fanOutPatch, mapOverWire } from "./graph/fanout";
import { type WorkflowMeta, bindingEdgeId, depEdgeId, flowToGraph, graphToFlow } from "./graph/convert";
import { type History, historyPush, historyRedo, historyUndo } from "./graph/history";
import { isIdentifier, nodeIdFor } from "./graph/ids";
import { layoutGraph } from "./graph/layout";
import { graphRename } from "./graph/rename";
import { type Draft, draftClear, draftMeta, draftPending } from "./graph/drafts";
import { NODE_DEFAULTS, type NodeSpec, handleParse } from "./graph/model";
import { type Verdict, connectionCheck } from "./graph/rules";
import { type NodeStatus, nodeStatuses, runFinished } from "./graph/runs";
import type { LoomEdge, LoomNode } from "./types";

export interface Toast {
  id: number;
  kind: "info" | "success" | "error";
  text: string;
}

interface Snapshot {
  meta: WorkflowMeta;
  nodes: LoomNode[];
  edges: LoomEdge[];
}

export type Panel = "node" | "workflow" | "runs" | "history";

interface State {
  user: User | null;
  toasts: Toast[];

  tenant: string;
  notebooks: Notebook[];
  notebookMap: Map<string, Notebook>;

  workflowId: number | null;
  version: number; // the saved version this edit is based on
  meta: WorkflowMeta;
  nodes: LoomNode[];
  edges: LoomEdge[];
  errors: GraphError[];
  errorsByNode: Map<string, GraphError[]>;
  dirty: boolean;
  saving: boolean;
  loadError: string | null;
  history: History<Snapshot>;
  lastEditKey: string;
  conflict: Conflict | null;
  clip: Clip | null;
  panel: Panel;

  run: RunDetail | null;
  runStatus: Map<string, NodeStatus>;
  runsAvailable: boolean;
  runsVersion: number; // bumped to make the run history reload
  loadSeq: number; // bumped when a workflow is (re)loaded from the server: the canvas fits to it
  restoredDraft: Pick<Draft, "version" | "savedAt"> | null; // the canvas is a draft kept from an earlier visit
  viewingVersion: number | null; // an older version shown read-only (editor/HistoryPanel)
  canEdit: boolean; // the user's role here may edit and run (set by the Editor once the role is known)
  diffMarks: Map<string, "added" | "changed">; // nodes marked by the version comparison shown
  pins: WorkflowDetail["notebook_pins"]; // the notebook versions the saved version runs

  toast: (kind: Toast["kind"], text: string) => void;
  dismiss: (id: number) => void;
  setUser: (user: User | null) => void;
  setPanel: (panel: Panel) => void;

  loadNotebooks: (tenant: string) => Promise<void>;
  load: (tenant: string, id: number) => Promise<void>;
  applyDetail: (detail: WorkflowDetail) => void;
  discardDraft: () => Promise<void>;
  onNodesChange: (changes: NodeChange<LoomNode>[]) => void;
  onEdgesChange: (changes: EdgeChange<LoomEdge>[]) => void;
  onConnect: (c: Connection) => void;
  connectionVerdict: (c: Connection) => Verdict;
  checkpoint: (key?: string) => void;
  addNode: (notebook: string, position: { x: number; y: number }) => void;
  updateNode: (id: string, patch: Partial<NodeSpec>, key?: string) => void;
  /** Fan a node out over a list (null: run once, see fanOutPatch), ordering it after the list's node if nothing does yet. */
  fanOut: (id: string, mapOver: string | null, mapParameter?: string | null) => void;
  setNodeParameter: (id: string, name: string, value: Json | undefined) => void;
  renameNode: (id: string, to: string) => string | null;
  updateMeta: (patch: Partial<WorkflowMeta>, key?: string) => void;
  selectOnly: (id: string | null) => void;
  deleteSelected: () => void;
  copy: () => void;
  paste: () => void;
  undo: () => void;
  redo: () => void;
  autoLayout: () => void;
  setErrors: (errors: GraphError[]) => void;
  save: (opts?: { overwrite?: boolean }) => Promise<boolean>;
  resolveConflict: (choice: "reload" | "overwrite" | "cancel") => Promise<void>;

  showRun: (run: RunDetail | null) => void;
  refreshRun: () => Promise<void>;
  /** The run dialog, open with a partial run's selection ({}: every node), or closed (null). */
  runDialog: RunSelection | null;
  openRunDialog: (selection: RunSelection | null) => void;
  /** Show another run by id (a badge's "cached · run #12"). */
  openRun: (id: number) => Promise<void>;
}

const EMPTY_META: WorkflowMeta = {
  name: "", description: "", schedule: null, start_date: "2026-01-01", catchup: false, tags: [], parameters: [], alerts: [],
};

let toastSeq = 0;

function groupErrors(errors: GraphError[]): Map<string, GraphError[]> {
  const m = new Map<string, GraphError[]>();
  for (const e of errors) if (e.node) m.set(e.node, [...(m.get(e.node) ?? []), e]);
  return m;
}

export const useStore = create<State>()((set, get) => {
  const snapshot = (): Snapshot => ({ meta: get().meta, nodes: get().nodes, edges: get().edges });

  /** Record the state before an edit; edits sharing a key within a second are one undo step. */
  const checkpoint = (key = "") => {
    const now = Date.now();
    const stamped = `${key}@${Math.floor(now / 1000)}`;
    if (key && get().lastEditKey === stamped) return;
    set({ history: historyPush(get().history, snapshot()), lastEditKey: key ? stamped : "", dirty: true });
  };

  const restore = (s: Snapshot) => set({ meta: s.meta, nodes: s.nodes, edges: s.edges, dirty: true, lastEditKey: "" });

  return {
    user: null,
    toasts: [],
    tenant: "",
    notebooks: [],
    notebookMap: new Map(),
    workflowId: null,
    version: 0,
    meta: EMPTY_META,
    nodes: [],
    edges: [],
    errors: [],
    errorsByNode: new Map(),
    dirty: false,
    saving: false,
    loadError: null,
    history: { past: [], future: [] },
    lastEditKey: "",
    conflict: null,
    clip: null,
    panel: "workflow",
    run: null,
    runStatus: new Map(),
    runsAvailable: true,
    runsVersion: 0,
    loadSeq: 0,
    restoredDraft: null,
    viewingVersion: null,
    canEdit: false,
    diffMarks: new Map(),
    pins: {},

    toast: (kind, text) => {
      const id = ++toastSeq;
      set({ toasts: [...get().toasts.slice(-3), { id, kind, text }] });
      setTimeout(() => get().dismiss(id), kind === "error" ? 7000 : 3500);
    },
    dismiss: (id) => set({ toasts: get().toasts.filter((t) => t.id !== id) }),
    setUser: (user) => set({ user }),
    setPanel: (panel) => set({ panel }),

    loadNotebooks: async (tenant) => {
      const notebooks = await endpoints.notebooks(tenant);
      set({ notebooks, notebookMap: new Map(notebooks.map((n) => [n.name, n])) });
    },

    load: async (tenant, id) => {
      set({ tenant, workflowId: id, loadError: null, nodes: [], edges: [], run: null, runStatus: new Map(), conflict: null, viewingVersion: null, diffMarks: new Map() });
      try {
        const [detail] = await Promise.all([endpoints.workflow(tenant, id), get().loadNotebooks(tenant)]);
        get().applyDetail(detail);
        // An unsaved canvas from an earlier visit (any tab) comes back, based on the version it
        // started from: if someone saved since, saving it meets the conflict dialog.
        const draft = draftPending(tenant, id, detail.version, flowToGraph(get().meta, get().nodes, get().edges));
        const flow = draft && graphToFlow(draft.graph);
        if (draft && flow) set({ meta: draftMeta(draft.graph), nodes: flow.nodes as LoomNode[], edges: flow.edges, version: draft.version, dirty: true });
        set({ restoredDraft: draft && { version: draft.version, savedAt: draft.savedAt } });
        set({ history: { past: [], future: [] }, panel: "workflow", loadSeq: get().loadSeq + 1 });
      } catch (e) {
        set({ loadError: e instanceof ApiError ? e.message : String(e) });
      }
    },

    applyDetail: (detail) => {
      const { nodes, edges, ...meta } = detail.graph;
      const flow = graphToFlow({ nodes, edges });
      set({
        workflowId: detail.id,
        version: detail.version,
        meta,
        nodes: flow.nodes as LoomNode[],
        edges: flow.edges,
        dirty: false,
        conflict: null,
        pins: detail.notebook_pins,
      });
      get().setErrors(detail.errors);
    },

    discardDraft: async () => {
      const { tenant, workflowId } = get();
      if (workflowId === null) return;
      draftClear(tenant, workflowId);
      set({ dirty: false, restoredDraft: null });
      await get().load(tenant, workflowId);
      get().toast("info", "Discarded your unsaved changes.");
    },

    onNodesChange: (changes) => {
      const edits = changes.filter((c) => c.type === "remove" || c.type === "add" || c.type === "replace");
      if (edits.length) checkpoint();
      const moved = changes.some((c) => c.type === "position" && c.dragging === false);
      let edges = get().edges;
      const removed = new Set(changes.flatMap((c) => (c.type === "remove" ? [c.id] : [])));
      if (removed.size) edges = edges.filter((e) => !removed.has(e.source) && !removed.has(e.target));
      set({ nodes: applyNodeChanges(changes, get().nodes), edges, ...(moved || edits.length ? { dirty: true } : {}) });
    },

    onEdgesChange: (changes) => {
      if (changes.some((c) => c.type === "remove" || c.type === "add")) checkpoint();
      set({ edges: applyEdgeChanges(changes, get().edges) });
    },

    connectionVerdict: (c) => connectionCheck(c, get().nodes, get().edges, get().notebookMap),

    onConnect: (c) => {
      const { edges } = get();
      const verdict = get().connectionVerdict(c);
      if (!verdict.ok) {
        get().toast("error", verdict.reason);
        return;
      }
      const out = handleParse(c.sourceHandle);
      const inp = handleParse(c.targetHandle);
      const id = out?.kind === "output" && inp?.kind === "param" ? bindingEdgeId(c.source, out.name, c.target, inp.name) : depEdgeId(c.source, c.target);
      checkpoint();
      set({ edges: [...edges, { id, source: c.source, target: c.target, sourceHandle: c.sourceHandle, targetHandle: c.targetHandle }] });
    },

    checkpoint,

    addNode: (notebook, position) => {
      const taken = new Set(get().nodes.map((n) => n.id));
      const id = nodeIdFor(notebook, taken);
      // The outputs another node of this notebook declares (the user may have typed more), else
      // those discovered in the notebook at upload.
      const sibling = get().nodes.find((n) => n.data.node.notebook === notebook);
      const outputs = sibling?.data.node.outputs ?? get().notebookMap.get(notebook)?.outputs ?? [];
      const node: LoomNode = {
        id,
        type: "notebook",
        position,
        selected: true,
        data: { node: { ...structuredClone(NODE_DEFAULTS), notebook, outputs: structuredClone(outputs) } },
      };
      checkpoint();
      set({ nodes: [...get().nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node], panel: "node" });
    },

    updateNode: (id, patch, key) => {
      checkpoint(key ?? `node:${id}:${Object.keys(patch).join(",")}`);
      set({ nodes: get().nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, node: { ...n.data.node, ...patch } } } : n)) });
    },

    fanOut: (id, mapOver, mapParameter) => {
      const wire = mapOverWire(id, mapOver, get().edges);
      get().updateNode(id, fanOutPatch(mapOver, mapParameter));
      if (wire) set({ edges: [...get().edges, wire] });
    },

    setNodeParameter: (id, name, value) => {
      const node = get().nodes.find((n) => n.id === id);
      if (!node) return;
      const parameters = { ...node.data.node.parameters };
      if (value === undefined) delete parameters[name];
      else parameters[name] = value;
      get().updateNode(id, { parameters }, `param:${id}:${name}`);
    },

    renameNode: (id, to) => {
      if (to === id) return null;
      if (!isIdentifier(to)) return "Use letters, digits and _ (not starting with a digit), at most 64.";
      if (get().nodes.some((n) => n.id === to)) return `A node named '${to}' already exists.`;
      checkpoint();
      set({
        ...graphRename(get().nodes, get().edges, id, to),
        errorsByNode: new Map(),
      });
      return null;
    },

    updateMeta: (patch, key) => {
      checkpoint(key ?? `meta:${Object.keys(patch).join(",")}`);
      set({ meta: { ...get().meta, ...patch } });
    },

    selectOnly: (id) =>
      set({
        nodes: get().nodes.map((n) => (n.selected === (n.id === id) ? n : { ...n, selected: n.id === id })),
        edges: get().edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
      }),

    deleteSelected: () => {
      const { nodes, edges } = get();
      const gone = new Set(nodes.filter((n) => n.selected).map((n) => n.id));
      if (!gone.size && !edges.some((e) => e.selected)) return;
      checkpoint();
      set({
        nodes: nodes.filter((n) => !gone.has(n.id)),
        edges: edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target)),
      });
    },

    copy: () => {
      const clip = clipCopy(get().nodes, get().edges);
      if (!clip.nodes.length) return;
      set({ clip });
      get().toast("info", `Copied ${clip.nodes.length} node${clip.nodes.length > 1 ? "s" : ""}.`);
    },

    paste: () => {
      const clip = get().clip;
      if (!clip) return;
      const { nodes, edges, meta } = get();
      const pasted = clipPaste(clip, new Set(nodes.map((n) => n.id)), undefined, { nodes, edges, globals: meta.parameters });
      checkpoint();
      set({
        nodes: [...nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...(pasted.nodes as LoomNode[])],
        edges: [...edges, ...pasted.edges, ...pasted.wires],
        // Pasting again lands one step further along instead of on top of this paste.
        clip: { nodes: pasted.nodes.map((n) => ({ ...n, selected: false })), edges: pasted.edges },
      });
    },

    undo: () => {
      const r = historyUndo(get().history, snapshot());
      if (r) {
        set({ history: r.history });
        restore(r.state);
      }
    },

    redo: () => {
      const r = historyRedo(get().history, snapshot());
      if (r) {
        set({ history: r.history });
        restore(r.state);
      }
    },

    autoLayout: () => {
      const { nodes, edges, notebookMap } = get();
      const pos = layoutGraph(nodes, edges, (n) => notebookMap.get(n.data.node.notebook)?.parameters.length ?? 0);
      checkpoint();
      set({ nodes: nodes.map((n) => ({ ...n, position: pos.get(n.id) ?? n.position })) });
    },

    setErrors: (errors) => set({ errors, errorsByNode: groupErrors(errors) }),

    save: async (opts = {}) => {
      const { tenant, workflowId, meta, nodes, edges, conflict } = get();
      if (workflowId === null || get().saving) return false;
      const base = opts.overwrite && conflict ? conflict.current_version : get().version;
      set({ saving: true });
      try {
        const detail = await endpoints.workflowSave(tenant, workflowId, flowToGraph(meta, nodes, edges), base);
        // Keep the canvas as drawn (selection, measured sizes); take the server's version and errors.
        set({ version: detail.version, dirty: false, conflict: null, meta: { ...meta, name: detail.graph.name }, restoredDraft: null, pins: detail.notebook_pins });
        draftClear(tenant, workflowId);
        get().setErrors(detail.errors);
        const n = detail.errors.length;
        get().toast(n ? "info" : "success", n ? `Saved version ${detail.version} as a draft: ${n} problem${n > 1 ? "s" : ""} to fix before it can run.` : `Saved version ${detail.version}.`);
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) {
          set({ conflict: e.body as Conflict });
        } else {
          get().toast("error", `Not saved: ${e instanceof ApiError ? e.message : String(e)}`);
        }
        return false;
      } finally {
        set({ saving: false });
      }
    },

    resolveConflict: async (choice) => {
      const conflict = get().conflict;
      if (!conflict) return;
      if (choice === "cancel") set({ conflict: null });
      else if (choice === "reload") {
        get().applyDetail(conflict.current);
        draftClear(get().tenant, conflict.current.id);
        set({ history: { past: [], future: [] }, loadSeq: get().loadSeq + 1, restoredDraft: null });
        get().toast("info", `Reloaded version ${conflict.current.version}.`);
      } else await get().save({ overwrite: true });
    },

    showRun: (run) => set({ run, runStatus: run ? nodeStatuses(run.nodes) : new Map() }),

    runDialog: null,
    openRunDialog: (selection) => set({ runDialog: selection }),
    openRun: async (id) => {
      try {
        get().showRun(await endpoints.run(get().tenant, id));
        set({ panel: "runs" });
      } catch (e) {
        get().toast("error", e instanceof Error ? e.message : String(e));
      }
    },

    refreshRun: async () => {
      const { run, tenant } = get();
      if (!run) return;
      const fresh = await endpoints.run(tenant, run.id);
      if (get().run?.id !== fresh.id) return;
      get().showRun(fresh);
      if (runFinished(fresh.status) && !runFinished(run.status)) set({ runsVersion: get().runsVersion + 1 });
    },
  };
});
