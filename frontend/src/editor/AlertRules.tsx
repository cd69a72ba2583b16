// The workflow's alert rules ("alerts" in the graph, so versioned with it): which of the tenant's
// channels hear of which events of its runs. Channels themselves are managed by admins (Admin → Alerts).
import { useEffect, useState } from "react";
import { endpoints } from "../api/endpoints";
import { ALERT_EVENTS, type AlertEvent, type AlertRule, type GraphError } from "../api/types";
import { useStore } from "../store";
import { FieldErrors } from "./FieldErrors";

const EVENT_LABELS: Record<AlertEvent, string> = {
  failure: "failure", success: "success", recovery: "recovery (first success after a failure)", duration: "slow run",
};

export function AlertRules({ errors }: { errors: GraphError[] }) {
  const tenant = useStore((s) => s.tenant);
  const rules = useStore((s) => s.meta.alerts);
  const updateMeta = useStore((s) => s.updateMeta);
  // null while loading: a rule added then would miss its default channel.
  const [channels, setChannels] = useState<string[] | null>(null);
  useEffect(() => {
    // Only admins may list channels (asking otherwise is a 403); others type the name, and
    // validation says if the tenant has no such channel.
    if (!tenant) return;
    endpoints.tenant(tenant)
      .then((t) => (t.role === "admin" ? endpoints.channels(tenant) : []))
      .then((c) => setChannels(c.map((x) => x.name)), () => setChannels([]));
  }, [tenant]);

  const set = (index: number, patch: Partial<AlertRule>) =>
    updateMeta({ alerts: rules.map((r, i) => (i === index ? { ...r, ...patch } : r)) }, `alert:${index}:${Object.keys(patch)}`);
  const toggle = (index: number, event: AlertEvent, on: boolean) => {
    const events = on ? [...rules[index].on, event] : rules[index].on.filter((e) => e !== event);
    set(index, { on: ALERT_EVENTS.filter((e) => events.includes(e)), ...(event === "duration" && !on ? { duration_s: null } : {}),
      ...(event === "duration" && on && !rules[index].duration_s ? { duration_s: 3600 } : {}) });
  };

  return (
    <>
      <p className="help">Tell a channel when a run of this workflow fails, succeeds, recovers or runs too long.</p>
      <datalist id="alert-channels">{(channels ?? []).map((c) => <option key={c} value={c} />)}</datalist>
      {rules.map((rule, i) => (
        <div className="global-row" key={i} data-testid={`alert-rule-${i}`}>
          <div className="global-head">
            <input className="input mono" aria-label={`Channel of alert rule ${i + 1}`} list="alert-channels" placeholder="channel"
              defaultValue={rule.channel} key={rule.channel}
              onBlur={(e) => e.target.value.trim() !== rule.channel && set(i, { channel: e.target.value.trim() })} />
            <button className="icon-button" aria-label={`Remove alert rule ${i + 1}`}
              onClick={() => updateMeta({ alerts: rules.filter((_, j) => j !== i) })}>✕</button>
          </div>
          <div className="alert-events">
            {ALERT_EVENTS.map((event) => (
              <label key={event}>
                <input type="checkbox" checked={rule.on.includes(event)} onChange={(e) => toggle(i, event, e.target.checked)} />
                <span>{EVENT_LABELS[event]}</span>
              </label>
            ))}
          </div>
          {rule.on.includes("duration") && (
            <label className="field compact">
              <span>Slow: longer than (seconds)</span>
              <input className="input" type="number" min={1} defaultValue={rule.duration_s ?? ""} key={rule.duration_s ?? ""}
                aria-label={`Seconds of alert rule ${i + 1}`}
                onBlur={(e) => set(i, { duration_s: e.target.value ? Number(e.target.value) : null })} />
            </label>
          )}
          {(["channel", "on", "duration_s"] as const).map((f) => <FieldErrors key={f} errors={errors} field={`alerts[${i}].${f}`} />)}
        </div>
      ))}
      <button className="button small" disabled={channels === null}
        onClick={() => updateMeta({ alerts: [...rules, { channel: channels?.[0] ?? "", on: ["failure"], duration_s: null }] })}>
        Add alert rule
      </button>
    </>
  );
}
