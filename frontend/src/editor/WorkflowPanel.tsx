import { useEffect, useState } from "react";
import { type GlobalParameter, PARAM_TYPES, type ParamType } from "../api/types";
import { SCHEDULE_PRESETS } from "../graph/model";
import { useStore } from "../store";
import { AlertRules } from "./AlertRules";
import { FieldErrors } from "./FieldErrors";
import { SchedulePanel } from "./SchedulePanel";
import { ValueInput } from "./ValueInput";

function Text(props: { label: string; value: string; onCommit: (v: string) => void; placeholder?: string; list?: string; type?: string; testId?: string }) {
  const [text, setText] = useState(props.value);
  useEffect(() => setText(props.value), [props.value]);
  const commit = () => text !== props.value && props.onCommit(text);
  return (
    <label className="field compact">
      <span>{props.label}</span>
      <input className="input" value={text} placeholder={props.placeholder} list={props.list} type={props.type} data-testid={props.testId}
        onChange={(e) => setText(e.target.value)} onBlur={commit} onKeyDown={(e) => e.key === "Enter" && commit()} />
    </label>
  );
}

function GlobalRow({ p, index, errors }: { p: GlobalParameter; index: number; errors: ReturnType<typeof useStore.getState>["errors"] }) {
  const params = useStore((s) => s.meta.parameters);
  const updateMeta = useStore((s) => s.updateMeta);
  const set = (patch: Partial<GlobalParameter>) =>
    updateMeta({ parameters: params.map((x, i) => (i === index ? { ...x, ...patch } : x)) }, `global:${index}:${Object.keys(patch)}`);
  const [name, setName] = useState(p.name);
  useEffect(() => setName(p.name), [p.name]);
  return (
    <div className="global-row" data-testid={`global-${p.name || index}`}>
      <div className="global-head">
        <input className="input mono" aria-label="Global parameter name" value={name} placeholder="name"
          onChange={(e) => setName(e.target.value)} onBlur={() => name !== p.name && set({ name: name.trim() })}
          onKeyDown={(e) => e.key === "Enter" && name !== p.name && set({ name: name.trim() })} />
        <select className="input small-select" aria-label={`Type of ${p.name}`} value={p.type}
          onChange={(e) => set({ type: e.target.value as ParamType, default: null })}>
          {PARAM_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
        <button className="icon-button" aria-label={`Remove ${p.name}`}
          onClick={() => updateMeta({ parameters: params.filter((_, i) => i !== index) })}>✕</button>
      </div>
      <ValueInput type={p.type} label={`Default of ${p.name}`} value={p.default ?? undefined} placeholder="default value"
        onChange={(v) => set({ default: v ?? null })} />
      <input className="input help-input" aria-label={`Description of ${p.name}`} placeholder="description (shown in the run form)"
        defaultValue={p.help} key={p.help} onBlur={(e) => e.target.value !== p.help && set({ help: e.target.value })} />
      <FieldErrors errors={errors} field={`parameters.${p.name}`} />
    </div>
  );
}

/** The workflow itself: name, schedule, start date, catchup, global parameters. */
export function WorkflowPanel({ readOnly }: { readOnly: boolean }) {
  const meta = useStore((s) => s.meta);
  const errors = useStore((s) => s.errors);
  const updateMeta = useStore((s) => s.updateMeta);
  const workflowErrors = errors.filter((e) => e.node === null);
  const nodeErrors = errors.filter((e) => e.node !== null);
  const selectOnly = useStore((s) => s.selectOnly);
  const setPanel = useStore((s) => s.setPanel);

  const addGlobal = () => {
    let i = meta.parameters.length + 1;
    while (meta.parameters.some((p) => p.name === `param_${i}`)) i++;
    updateMeta({ parameters: [...meta.parameters, { name: `param_${i}`, type: "str", default: null, help: "" }] });
  };

  return (
    <div className="workflow-panel" data-testid="workflow-panel">
      {errors.length > 0 && (
        <div className="callout callout-error problems" role="alert" data-testid="problems">
          <strong>{errors.length} problem{errors.length > 1 ? "s" : ""}</strong> to fix before this workflow can run.
          <ul>
            {workflowErrors.map((e, i) => <li key={`w${i}`}>{e.message}</li>)}
            {nodeErrors.slice(0, 12).map((e, i) => (
              <li key={i}>
                <button className="link-button mono" onClick={() => { selectOnly(e.node); setPanel("node"); }}>{e.node}</button>: {e.message}
              </li>
            ))}
            {nodeErrors.length > 12 && <li className="muted">and {nodeErrors.length - 12} more on the canvas</li>}
          </ul>
        </div>
      )}
      <fieldset className="section-box" disabled={readOnly}>
        <legend>Workflow</legend>
        <Text label="Name" value={meta.name} onCommit={(v) => v.trim() && updateMeta({ name: v.trim() })} testId="workflow-name" />
        <label className="field compact">
          <span>Description</span>
          <textarea className="input" rows={2} defaultValue={meta.description} key={meta.description}
            onBlur={(e) => e.target.value !== meta.description && updateMeta({ description: e.target.value })} />
        </label>
      </fieldset>
      <fieldset className="section-box" disabled={readOnly}>
        <legend>Schedule</legend>
        <Text label="Schedule (cron or preset; empty: manual runs only)" value={meta.schedule ?? ""} list="schedule-presets" placeholder="manual"
          onCommit={(v) => updateMeta({ schedule: v.trim() || null })} testId="workflow-schedule" />
        <datalist id="schedule-presets">{SCHEDULE_PRESETS.map((p) => <option key={p} value={p} />)}</datalist>
        <FieldErrors errors={workflowErrors} field="schedule" />
        <div className="grid-2">
          <Text label="Start date" type="date" value={meta.start_date} onCommit={(v) => updateMeta({ start_date: v })} testId="workflow-start-date" />
          <label className="field compact checkbox-field">
            <input type="checkbox" checked={meta.catchup} onChange={(e) => updateMeta({ catchup: e.target.checked })} />
            <span>Catch up missed runs</span>
          </label>
        </div>
        <FieldErrors errors={workflowErrors} field="start_date" />
      </fieldset>
      <fieldset className="section-box">
        <legend>Deployment</legend>
        <SchedulePanel readOnly={readOnly} />
      </fieldset>
      <fieldset className="section-box" disabled={readOnly}>
        <legend>Global parameters</legend>
        <p className="help">Every node with a parameter of the same name gets this value, unless a wire or the node sets its own.</p>
        {meta.parameters.map((p, i) => <GlobalRow key={i} p={p} index={i} errors={workflowErrors} />)}
        <button className="button small" onClick={addGlobal}>Add global parameter</button>
      </fieldset>
      <fieldset className="section-box" disabled={readOnly}>
        <legend>Alerts</legend>
        <AlertRules errors={workflowErrors} />
      </fieldset>
    </div>
  );
}
