import { Handle, type NodeProps, Position, useUpdateNodeInternals } from "@xyflow/react";
import { memo, useEffect } from "react";
import { DEP_IN, DEP_OUT, outputHandle, outputName, outputType, paramHandle } from "../graph/model";
import { useStore } from "../store";
import type { NotebookFlowNode } from "../types";
import { StatusChip } from "../ui/StatusChip";

/** A notebook on the canvas: parameters as typed inputs on the left, outputs on the right. */
function NotebookNodeView({ id, data, selected }: NodeProps<NotebookFlowNode>) {
  const spec = data.node;
  const notebook = useStore((s) => s.notebookMap.get(spec.notebook));
  const errors = useStore((s) => s.errorsByNode.get(id));
  const status = useStore((s) => s.runStatus.get(id));
  const errorFields = new Set(errors?.map((e) => e.field) ?? []);
  const params = notebook?.parameters ?? [];
  // React Flow measures handles once; a handle added later (a new output, a notebook loaded
  // after the node) cannot be wired to until the node is measured again.
  const updateNodeInternals = useUpdateNodeInternals();
  const handleKey = `${params.map((p) => p.name).join(",")}|${spec.outputs.map(outputName).join(",")}`;
  useEffect(() => updateNodeInternals(id), [id, handleKey, updateNodeInternals]);
  const classes = ["loom-node"];
  if (selected) classes.push("selected");
  if (errors?.length) classes.push("has-errors");
  if (status) classes.push(`run-${status.status}`);

  return (
    <div className={classes.join(" ")} data-testid={`node-${id}`} data-status={status?.status ?? ""} data-errors={errors?.length ?? 0}
      title={errors?.map((e) => e.message).join("\n")}>
      <Handle type="target" position={Position.Left} id={DEP_IN} className="dep-handle dep-in" title="after: run after another node" />
      <div className="loom-node-header">
        <div className="loom-node-title">
          <span className="loom-node-id">{spec.label || id}</span>
          {spec.map_over && <span className="chip chip-map" title={`one run per item of ${spec.map_over}`}>⇶ {spec.map_over}</span>}
        </div>
        <div className="loom-node-sub">
          <span className="mono">{spec.notebook}</span>
          {!notebook && <span className="danger-text"> · not in catalog</span>}
        </div>
        {status && (
          <div className="loom-node-status">
            <StatusChip status={status.status} extra={status.total > 1 ? `${status.done}/${status.total}` : undefined} />
          </div>
        )}
        {!!errors?.length && <span className="error-badge" aria-label={`${errors.length} problems`}>{errors.length}</span>}
      </div>
      <Handle type="source" position={Position.Right} id={DEP_OUT} className="dep-handle dep-out" title="done: order a node after this one" />
      <div className="loom-node-body">
        <div className="loom-node-col">
          {params.map((p) => (
            <div key={p.name} className={`port port-in${errorFields.has(`parameters.${p.name}`) ? " port-error" : ""}`} data-param={p.name}>
              <Handle type="target" position={Position.Left} id={paramHandle(p.name)} className={`type-${p.type ?? "any"}`} />
              <span className="port-name">{p.name}{p.required && !(p.name in spec.parameters) ? <span className="req">*</span> : null}</span>
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
                <span className="port-name">{name}</span>
                <Handle type="source" position={Position.Right} id={outputHandle(name)} className={`type-${type ?? "any"}`} />
              </div>
            );
          })}
          {spec.outputs.length === 0 && <div className="port port-empty right">no outputs</div>}
        </div>
      </div>
    </div>
  );
}

export const NotebookNode = memo(NotebookNodeView);
