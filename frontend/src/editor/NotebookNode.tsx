import { Handle, type NodeProps, Position, useStore as useFlowStore, useUpdateNodeInternals } from "@xyflow/react";
import { memo, useEffect, useRef, useState } from "react";
import type { RunSelection } from "../api/types";
import type { LoomEdge } from "../types";
import { NODE_BODY_PAD, NODE_HEADER, NODE_ROW } from "../graph/layout";
import { DEP_IN, DEP_OUT, outputHandle, outputName, outputType, paramHandle } from "../graph/model";
import { globalsReaching } from "../graph/params";
import { useStore } from "../store";
import type { NotebookFlowNode } from "../types";
import { StatusChip } from "../ui/StatusChip";
import { itemsChip } from "../graph/runs";

/** Below this zoom nodes draw no port text: a 500-node graph fitted to the screen stays fast. */
export const DETAIL_ZOOM = 0.45;

/** Below this zoom a node's header shows only its name: nothing else is legible there. */
export const SKETCH_ZOOM = 0.2;

export const useDetailed = () => useFlowStore((s) => s.transform[2] >= DETAIL_ZOOM);
const useSketch = () => useFlowStore((s) => s.transform[2] < SKETCH_ZOOM);

// Handles that carry a wire, per node, computed once per edges array.
let wiredFor: LoomEdge[] | null = null;
let wired = new Map<string, string>();
function wiredHandles(edges: LoomEdge[], id: string): string {
  if (edges !== wiredFor) {
    const sets = new Map<string, Set<string>>();
    const add = (node: string, handle: string | null | undefined) => {
      if (!handle) return;
      if (!sets.has(node)) sets.set(node, new Set());
      sets.get(node)!.add(handle);
    };
    for (const e of edges) {
      add(e.source, e.sourceHandle);
      add(e.target, e.targetHandle);
    }
    wired = new Map([...sets].map(([k, v]) => [k, [...v].sort().join("|")]));
    wiredFor = edges;
  }
  return wired.get(id) ?? "";
}

const rowTop = (i: number) => NODE_HEADER + NODE_BODY_PAD + i * NODE_ROW + NODE_ROW / 2;

/** A notebook on the canvas: parameters as typed inputs on the left, outputs on the right. */
function NotebookNodeView({ id, data, selected }: NodeProps<NotebookFlowNode>) {
  const spec = data.node;
  const notebook = useStore((s) => s.notebookMap.get(spec.notebook));
  const errors = useStore((s) => s.errorsByNode.get(id));
  const status = useStore((s) => s.runStatus.get(id));
  const diff = useStore((s) => s.diffMarks.get(id));
  const detailed = useDetailed();
  const sketch = useSketch();
  const wiredKey = useStore((s) => wiredHandles(s.edges, id));
  const globals = useStore((s) => s.meta.parameters);
  const errorFields = new Set(errors?.map((e) => e.field) ?? []);
  const params = notebook?.parameters ?? [];
  const rows = Math.max(params.length, spec.outputs.length, 1);
  const wiredSet = new Set(wiredKey.split("|"));
  // The global parameters whose value gets to a parameter here (nothing closer gives it one).
  const incoming = [...wiredSet].map((h) => ({ id: h, source: "", target: id, targetHandle: h }));
  const reached = new Set(globalsReaching({ id, position: { x: 0, y: 0 }, data }, params, incoming, globals).filter((g) => g.reaches).map((g) => g.name));

  // React Flow measures handles once; a handle added later (a new output, a notebook loaded
  // after the node) cannot be wired to until the node is measured again.
  const updateNodeInternals = useUpdateNodeInternals();
  const handleKey = `${params.map((p) => p.name).join(",")}|${spec.outputs.map(outputName).join(",")}`;
  const measuredKey = useRef(handleKey);
  useEffect(() => {
    // Not on mount: React Flow measures new nodes itself, and 500 extra measurements on load
    // would each re-render the canvas.
    if (measuredKey.current === handleKey) return;
    measuredKey.current = handleKey;
    updateNodeInternals(id);
  }, [id, handleKey, updateNodeInternals]);

  const classes = ["loom-node"];
  if (selected) classes.push("selected");
  if (errors?.length) classes.push("has-errors");
  if (status) classes.push(`run-${status.status}`);
  if (diff) classes.push(`diff-${diff}`);
  const bodyHeight = rows * NODE_ROW + 2 * NODE_BODY_PAD;

  let body;
  if (detailed) {
    body = (
      <div className="loom-node-body" style={{ height: bodyHeight }}>
        <div className="loom-node-col">
          {params.map((p) => (
            <div key={p.name} className={`port port-in${errorFields.has(`parameters.${p.name}`) ? " port-error" : ""}`} data-param={p.name}>
              <Handle type="target" position={Position.Left} id={paramHandle(p.name)} className={`type-${p.type ?? "any"}${reached.has(p.name) ? " from-global" : ""}`} />
              {reached.has(p.name) && <span className="port-global" data-global={p.name} title={`The global parameter ${p.name} gives this its value`}>G</span>}
              <span className="port-name" title={p.help ? `${p.name}: ${p.help}` : p.name}>{p.name}{p.required && !(p.name in spec.parameters) ? <span className="req">*</span> : null}</span>
              <span className="port-type">{p.type ?? "any"}</span>
            </div>
          ))}
          {params.length === 0 && <div className="port port-empty">no parameters</div>}
        </div>
        <div className="loom-node-col right">
          {spec.outputs.map((o) => {
            const name = outputName(o);
            const type = spec.map_over ? "list" : outputType(o);
            return (
              <div key={name} className="port port-out" data-output={name}>
                <span className="port-type">{type ?? "any"}</span>
                <span className="port-name" title={name}>{name}</span>
                <Handle type="source" position={Position.Right} id={outputHandle(name)} className={`type-${type ?? "any"}`} />
              </div>
            );
          })}
          {spec.outputs.length === 0 && <div className="port port-empty right">no outputs</div>}
        </div>
      </div>
    );
  } else {
    // Zoomed out: the same box and the same handle positions, but only the wired handles
    // and no text, so edges still meet their ports.
    body = (
      <div className="loom-node-body lod" style={{ height: bodyHeight }}>
        {params.map((p, i) =>
          wiredSet.has(paramHandle(p.name)) ? (
            <Handle key={p.name} type="target" position={Position.Left} id={paramHandle(p.name)} className={`lod-handle type-${p.type ?? "any"}`} style={{ top: rowTop(i) }} />
          ) : null,
        )}
        {spec.outputs.map((o, i) =>
          wiredSet.has(outputHandle(outputName(o))) ? (
            <Handle key={outputName(o)} type="source" position={Position.Right} id={outputHandle(outputName(o))} className="lod-handle" style={{ top: rowTop(i) }} />
          ) : null,
        )}
      </div>
    );
  }

  return (
    <div className={classes.join(" ")} data-testid={`node-${id}`} data-status={status?.status ?? ""} data-errors={errors?.length ?? 0} data-diff={diff ?? ""}
      title={errors?.map((e) => e.message).join("\n")}>
      <Handle type="target" position={Position.Left} id={DEP_IN} className="dep-handle dep-in" title="after: run after another node" />
      {sketch ? (
        <div className="loom-node-header sketch"><span className="loom-node-id" title={spec.label ? `${spec.label} (${id})` : id}>{spec.label || id}</span></div>
      ) : (
      <div className="loom-node-header">
        <div className="loom-node-title">
          <span className="loom-node-id" title={spec.label ? `${spec.label} (${id})` : id}>{spec.label || id}</span>
          {spec.map_over && <span className="chip chip-map" title={`one run per item of ${spec.map_over}`}>⇶ {spec.map_over}</span>}
          <span className="spacer" />
          {status && <StatusChip status={status.status} extra={itemsChip(status)} />}
          {!sketch && <NodeRunMenu id={id} />}
        </div>
        {status?.source && <SourceBadge kind={status.source.kind} run={status.source.run} />}
        <div className="loom-node-sub">
          <span className="mono" title={spec.notebook}>{spec.notebook}</span>
          {!notebook && <span className="danger-text"> · not in catalog</span>}
        </div>
        {!!errors?.length && <span className="error-badge" aria-label={`${errors.length} problems`}>{errors.length}</span>}
      </div>
      )}
      <Handle type="source" position={Position.Right} id={DEP_OUT} className="dep-handle dep-out" title="done: order a node after this one" />
      {body}
    </div>
  );
}

/** "cached · run #12": the node did not execute; the link shows the run it came from. */
function SourceBadge({ kind, run }: { kind: "cached" | "reused"; run: number }) {
  const openRun = useStore((s) => s.openRun);
  return (
    <button className={`source-badge nodrag source-${kind}`} data-testid="source-badge"
      title={`Not executed: its outputs are those of run #${run}. Show that run.`}
      onClick={(e) => { e.stopPropagation(); void openRun(run); }}>
      {kind} · run #{run}
    </button>
  );
}

/** The node's run menu: run it alone, from it on, or up to it (a partial run). */
function NodeRunMenu({ id }: { id: string }) {
  const openRunDialog = useStore((s) => s.openRunDialog);
  const readOnly = useStore((s) => s.viewingVersion !== null || !s.canEdit);
  const [open, setOpen] = useState(false);
  if (readOnly) return null;
  const pick = (selection: RunSelection) => { setOpen(false); openRunDialog(selection); };
  return (
    <span className="node-menu nodrag" onClick={(e) => e.stopPropagation()}>
      <button className="icon-button node-menu-button" aria-label={`Run options for ${id}`} data-testid={`node-menu-${id}`}
        aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)}>▶</button>
      {open && (
        <span className="node-menu-list" role="menu" onMouseLeave={() => setOpen(false)}>
          <button role="menuitem" onClick={() => pick({ only: [id] })}>Run this node</button>
          <button role="menuitem" onClick={() => pick({ from: id })}>Run from here</button>
          <button role="menuitem" onClick={() => pick({ to: id })}>Run up to here</button>
        </span>
      )}
    </span>
  );
}

export const NotebookNode = memo(NotebookNodeView);
