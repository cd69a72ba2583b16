import { useEffect, useMemo, useState } from "react";
import { PARAM_TYPES, type ParamType } from "../api/types";
import { type ParamValue, globalsReaching, mapTarget, parametersResolve } from "../graph/params";
import { type NodeSpec, TRIGGER_RULES, outputName, outputType } from "../graph/model";
import { mapChoices as mapChoicesOf } from "../graph/fanout";
import { valueShort } from "../graph/values";
import { useStore } from "../store";
import type { LoomNode } from "../types";
import { FieldErrors } from "./FieldErrors";
import { NewerNotebook } from "./NewerNotebook";
import { NodeRunDetails } from "./NodeRunDetails";
import { ValueInput } from "./ValueInput";

const MAP_GROUP_LABELS = { global: "Global parameters", upstream: "Upstream outputs", "other node": "Other nodes' outputs (runs after them)" };
const FORM_FIELDS = ["outputs", "map_over", "map_parameter", "trigger_rule", "connections", "id"];

const LAYER_TEXT: Record<ParamValue["layer"], string> = {
  map: "each item of", override: "run override", node: "this node", edge: "wired from", global: "global", default: "notebook default",
};

const SHADOW_TEXT = { map: "fan-out item", node: "set on this node", edge: "wired" } as const;

function Winner({ w }: { w: ParamValue | null }) {
  if (!w) return <span className="source-badge source-none">no value</span>;
  const detail = w.from ?? (w.layer === "node" ? "" : valueShort(w.value, 24));
  return (
    <span className={`source-badge source-${w.layer}`} data-testid="value-source" data-layer={w.layer}>
      {LAYER_TEXT[w.layer]}{detail ? ` ${detail}` : ""}
    </span>
  );
}

function NumberField(props: { label: string; value: number | null; min?: number; onChange: (v: number | null) => void; placeholder?: string; nullable?: boolean }) {
  const [text, setText] = useState(props.value === null ? "" : String(props.value));
  useEffect(() => setText(props.value === null ? "" : String(props.value)), [props.value]);
  const commit = () => {
    if (text.trim() === "") return props.nullable ? props.onChange(null) : setText(String(props.value ?? ""));
    const n = Number(text);
    if (Number.isInteger(n) && n >= (props.min ?? 0)) props.onChange(n);
    else setText(props.value === null ? "" : String(props.value));
  };
  return (
    <label className="field compact">
      <span>{props.label}</span>
      <input className="input" inputMode="numeric" value={text} placeholder={props.placeholder} onChange={(e) => setText(e.target.value)}
        onBlur={commit} onKeyDown={(e) => e.key === "Enter" && commit()} />
    </label>
  );
}

function TextField(props: { label: string; value: string | null; onChange: (v: string | null) => void; placeholder?: string }) {
  const [text, setText] = useState(props.value ?? "");
  useEffect(() => setText(props.value ?? ""), [props.value]);
  const commit = () => text !== (props.value ?? "") && props.onChange(text.trim() === "" ? null : text.trim());
  return (
    <label className="field compact">
      <span>{props.label}</span>
      <input className="input" value={text} placeholder={props.placeholder} onChange={(e) => setText(e.target.value)}
        onBlur={commit} onKeyDown={(e) => e.key === "Enter" && commit()} />
    </label>
  );
}

function NodeIdField({ id, readOnly }: { id: string; readOnly: boolean }) {
  const renameNode = useStore((s) => s.renameNode);
  const [text, setText] = useState(id);
  const [problem, setProblem] = useState("");
  useEffect(() => setText(id), [id]);
  const commit = () => {
    const p = renameNode(id, text.trim());
    setProblem(p ?? "");
    if (p) setText(id);
  };
  return (
    <label className="field compact node-id-field">
      <span>Node id</span>
      <input className="input mono" aria-label="Node id" value={text} readOnly={readOnly} spellCheck={false}
        onChange={(e) => setText(e.target.value)} onBlur={commit} onKeyDown={(e) => e.key === "Enter" && commit()} />
      {!readOnly && <span className="help">Letters, digits and _, not starting with a digit, at most 64; unique in the workflow. Wires and fan-outs follow a rename.</span>}
      {problem && <span className="field-error" role="alert">{problem}</span>}
    </label>
  );
}

export function Inspector({ node, readOnly }: { node: LoomNode; readOnly: boolean }) {
  const spec = node.data.node;
  const notebook = useStore((s) => s.notebookMap.get(spec.notebook));
  const edges = useStore((s) => s.edges);
  const nodes = useStore((s) => s.nodes);
  const globals = useStore((s) => s.meta.parameters);
  const errors = useStore((s) => s.errorsByNode.get(node.id));
  const run = useStore((s) => s.run);
  const updateNode = useStore((s) => s.updateNode);
  const setNodeParameter = useStore((s) => s.setNodeParameter);
  const update = (patch: Partial<NodeSpec>) => updateNode(node.id, patch);
  const [newOutput, setNewOutput] = useState("");

  const signature = notebook?.parameters ?? [];
  const incoming = useMemo(() => edges.filter((e) => e.target === node.id), [edges, node.id]);
  const resolved = parametersResolve(node, signature, incoming, globals);
  const reach = globalsReaching(node, signature, incoming, globals);
  const general = errors?.filter((e) => !e.field.startsWith("parameters.") && !FORM_FIELDS.includes(e.field)) ?? [];
  const mapChoices = useMemo(() => mapChoicesOf(node.id, nodes, edges, globals), [node.id, nodes, edges, globals]);
  const fanOut = useStore((s) => s.fanOut);
  const mapGroups = (["global", "upstream", "other node"] as const).map((from) => [from, mapChoices.filter((c) => c.from === from)] as const);

  const declared = new Set(spec.outputs.map(outputName));
  const discovered = (notebook?.outputs ?? []).filter((o) => !declared.has(o.name));

  const addOutput = () => {
    const name = newOutput.trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || spec.outputs.some((o) => outputName(o) === name)) return;
    update({ outputs: [...spec.outputs, { name, type: null }] });
    setNewOutput("");
  };

  return (
    <div className="inspector" data-testid="inspector">
      <div className="inspector-head">
        <div className="muted small">
          Notebook <span className="mono">{spec.notebook}</span>
          {notebook ? ` · v${notebook.version}` : " · not in the catalog"}
        </div>
        <NodeIdField id={node.id} readOnly={readOnly} />
      </div>

      <NewerNotebook nodeId={node.id} readOnly={readOnly} />
      {run && <NodeRunDetails nodeId={node.id} readOnly={readOnly} />}

      {general.map((e, i) => <div key={i} className="callout callout-error" role="alert">{e.message}</div>)}
      <FieldErrors errors={errors} field="id" />

      <fieldset className="section-box" disabled={readOnly}>
        <legend>Parameters</legend>
        {signature.length === 0 && <p className="muted small">{notebook ? "This notebook has no parameters cell." : "Unknown notebook."}</p>}
        {reach.length > 0 && (
          <div className="node-globals" data-testid="node-globals">
            <span className="muted small">Global parameters:</span>
            {reach.map((g) => (
              <span key={g.name} className={`pill${g.reaches ? "" : " shadowed"}`} data-reaches={g.reaches}
                title={g.reaches ? `The workflow's ${g.name} gives this node its value` : `Not used here: ${SHADOW_TEXT[g.shadowedBy!]}`}>
                {g.name}<span className="pill-type">{g.reaches ? "reaches" : SHADOW_TEXT[g.shadowedBy!]}</span>
              </span>
            ))}
          </div>
        )}
        {resolved.map(({ param, winner }) => {
          const field = `parameters.${param.name}`;
          const hasError = errors?.some((e) => e.field === field);
          return (
            <div key={param.name} className={`param-row${hasError ? " has-error" : ""}`} data-testid={`param-${param.name}`}>
              <div className="param-head">
                <span className="param-name mono">{param.name}</span>
                <span className={`type-tag type-${param.type ?? "any"}`}>{param.type ?? "any"}</span>
                {param.required && <span className="req-tag">required</span>}
                <span className="spacer" />
                <Winner w={winner} />
              </div>
              <div className="param-input">
                <ValueInput type={param.type} label={param.name} value={spec.parameters[param.name]} invalid={hasError}
                  placeholder={param.required ? "required" : `default ${param.default_source}`}
                  onChange={(v) => setNodeParameter(node.id, param.name, v)} />
                {param.name in spec.parameters && (
                  <button className="icon-button" title="Clear: use the next value in line" aria-label={`Clear ${param.name}`}
                    onClick={() => setNodeParameter(node.id, param.name, undefined)}>↺</button>
                )}
              </div>
              {param.help && <div className="help">{param.help}</div>}
              <FieldErrors errors={errors} field={field} />
            </div>
          );
        })}
        {Object.keys(spec.parameters).filter((k) => !signature.some((p) => p.name === k)).map((k) => (
          <div key={k} className="param-row has-error">
            <div className="param-head"><span className="param-name mono">{k}</span><span className="spacer" />
              <button className="button ghost small" onClick={() => setNodeParameter(node.id, k, undefined)}>Remove</button></div>
            <FieldErrors errors={errors} field={`parameters.${k}`} />
          </div>
        ))}
        <p className="help">Precedence: each item of map › run override › this node › wired from › global › notebook default.</p>
      </fieldset>

      <fieldset className="section-box" disabled={readOnly}>
        <legend>Outputs</legend>
        <p className="help">Names of variables (or scrapbook glue) the notebook leaves behind; each becomes a handle to wire downstream. Loom finds those of <span className="mono">sb.glue</span> and of a cell tagged <span className="mono">outputs</span>.</p>
        {spec.outputs.map((o, i) => (
          <div key={outputName(o)} className="output-row">
            <span className="mono">{outputName(o)}</span>
            <select className="input small-select" aria-label={`Type of ${outputName(o)}`} value={outputType(o) ?? ""}
              onChange={(e) => update({ outputs: spec.outputs.map((x, j) => (j === i ? { name: outputName(x), type: (e.target.value || null) as ParamType | null } : x)) })}>
              <option value="">any</option>
              {PARAM_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
            <button className="icon-button" aria-label={`Remove output ${outputName(o)}`}
              onClick={() => update({ outputs: spec.outputs.filter((_, j) => j !== i) })}>✕</button>
          </div>
        ))}
        {discovered.length > 0 && (
          <div className="discovered" data-testid="discovered-outputs">
            <span className="muted small">Found in the notebook:</span>
            {discovered.map((o) => (
              <button key={o.name} className="pill pill-button" title={`Add output ${o.name}`}
                onClick={() => update({ outputs: [...spec.outputs, { name: o.name, type: o.type }] })}>
                + {o.name}<span className="pill-type">{o.type ?? "any"}</span>
              </button>
            ))}
          </div>
        )}
        <div className="output-add">
          <input className="input" placeholder="output name" aria-label="New output name" value={newOutput}
            onChange={(e) => setNewOutput(e.target.value)} onKeyDown={(e) => e.key === "Enter" && addOutput()} />
          <button className="button small" onClick={addOutput} disabled={!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newOutput.trim())}>Add output</button>
        </div>
        <FieldErrors errors={errors} field="outputs" />
      </fieldset>

      <fieldset className="section-box" disabled={readOnly}>
        <legend>Fan-out</legend>
        <label className="field compact">
          <span>Map over</span>
          <select className="input" value={spec.map_over ?? ""} aria-label="Map over"
            onChange={(e) => fanOut(node.id, e.target.value || null)}>
            <option value="">— run once</option>
            {spec.map_over && !mapChoices.some((c) => c.value === spec.map_over) && <option value={spec.map_over}>{spec.map_over}</option>}
            {mapGroups.map(([from, choices]) => choices.length > 0 && (
              <optgroup key={from} label={MAP_GROUP_LABELS[from]}>
                {choices.map((c) => <option key={c.value} value={c.value}>{c.value}</option>)}
              </optgroup>
            ))}
          </select>
        </label>
        <FieldErrors errors={errors} field="map_over" />
        {spec.map_over && <>
          <label className="field compact">
            <span>Item goes to</span>
            <select className="input" value={spec.map_parameter ?? ""} aria-label="Map parameter"
              onChange={(e) => update({ map_parameter: e.target.value || null })}>
              <option value="">— parameter named {mapTarget({ map_over: spec.map_over, map_parameter: null })}</option>
              {signature.map((p) => <option key={p.name} value={p.name}>{p.name}</option>)}
            </select>
          </label>
          <FieldErrors errors={errors} field="map_parameter" />
          <NumberField label="At most in parallel" value={spec.max_active} min={1} nullable placeholder="no cap" onChange={(v) => update({ max_active: v })} />
          <NumberField label="Failed items accepted" value={spec.max_failed_items} nullable placeholder="none" onChange={(v) => update({ max_failed_items: v })} />
          <FieldErrors errors={errors} field="max_failed_items" />
          <label className="field compact checkbox-field" title="Only for a notebook that does not rely on module globals left by an earlier item. No effect on Airflow, where each item is a process of its own.">
            <input type="checkbox" checked={spec.reuse_kernel} data-testid="node-reuse-kernel" onChange={(e) => update({ reuse_kernel: e.target.checked })} />
            <span>Reuse the kernel between items</span>
          </label>
          <p className="help">Imports are paid once per kernel; each item still starts with an empty namespace.</p>
        </>}
        {!spec.map_over && mapChoices.length === 0 && <p className="help">Add a global parameter of type list, or a node with a list output, to fan out over it.</p>}
      </fieldset>

      <fieldset className="section-box" disabled={readOnly}>
        <legend>Execution</legend>
        <div className="grid-2">
          <NumberField label="Retries" value={spec.retries} onChange={(v) => update({ retries: v ?? 0 })} />
          <NumberField label="Retry delay (s)" value={spec.retry_delay_s} onChange={(v) => update({ retry_delay_s: v ?? 0 })} />
          <NumberField label="Timeout (s)" value={spec.timeout_s} min={1} nullable placeholder="none" onChange={(v) => update({ timeout_s: v })} />
          <NumberField label="Memory (MB per process)" value={spec.memory_mb ?? null} min={1} nullable placeholder="tenant default" onChange={(v) => update({ memory_mb: v })} />
          <NumberField label="Processes" value={spec.max_procs ?? null} min={1} nullable placeholder="tenant default" onChange={(v) => update({ max_procs: v })} />
          <label className="field compact">
            <span>Trigger rule</span>
            <select className="input" value={spec.trigger_rule} onChange={(e) => update({ trigger_rule: e.target.value })}>
              {TRIGGER_RULES.map((r) => <option key={r} value={r}>{r}</option>)}
            </select>
          </label>
          <TextField label="Pool" value={spec.pool} placeholder="workspace default" onChange={(v) => update({ pool: v })} />
          <TextField label="Queue" value={spec.queue} placeholder="default" onChange={(v) => update({ queue: v })} />
        </div>
        <FieldErrors errors={errors} field="memory_mb" />
        <FieldErrors errors={errors} field="max_procs" />
        <FieldErrors errors={errors} field="trigger_rule" />
        <TextField label="Connections (comma-separated)" value={spec.connections.join(", ") || null} placeholder="none"
          onChange={(v) => update({ connections: (v ?? "").split(",").map((s) => s.trim()).filter(Boolean) })} />
        <FieldErrors errors={errors} field="connections" />
        <label className="field compact checkbox-field" title="Untick for a notebook that reads the clock or external data: it then runs every time.">
          <input type="checkbox" checked={spec.cache !== false} data-testid="node-cache" onChange={(e) => update({ cache: e.target.checked })} />
          <span>Cache: reuse an earlier result when nothing it depends on changed</span>
        </label>
        <FieldErrors errors={errors} field="cache" />
        <TextField label="Label" value={spec.label || null} placeholder={node.id} onChange={(v) => update({ label: v ?? "" })} />
      </fieldset>
    </div>
  );
}
