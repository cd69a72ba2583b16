import type { NodeRun } from "../api/types";
import { duration } from "../ui/format";

/** The run as a Gantt chart: one bar per node from its start to its end (now while it runs). */
export function RunTimeline({ nodes }: { nodes: NodeRun[] }) {
  const rows = nodes.filter((n) => n.map_index === null && n.started_at);
  if (rows.length === 0) return null;
  const now = Date.now();
  const t = (iso: string | null) => (iso ? new Date(iso).getTime() : now);
  const start = Math.min(...rows.map((n) => t(n.started_at)));
  const end = Math.max(...rows.map((n) => t(n.ended_at)), start + 1);
  const pct = (ms: number) => `${((ms - start) / (end - start)) * 100}%`;
  return (
    <div className="timeline" role="figure" aria-label="Timeline of the run" data-testid="run-timeline">
      {rows.map((n) => (
        <div className="timeline-row" key={n.node} title={`${n.node}: ${duration(n.started_at, n.ended_at)}`}>
          <span className="timeline-label mono">{n.node}</span>
          <span className="timeline-track">
            <span className={`timeline-bar status-${n.status}`} data-node={n.node}
              style={{ left: pct(t(n.started_at)), width: `max(2px, calc(${pct(t(n.ended_at))} - ${pct(t(n.started_at))}))` }} />
          </span>
          <span className="timeline-time muted small">{duration(n.started_at, n.ended_at)}</span>
        </div>
      ))}
      <div className="timeline-axis muted small"><span>0s</span><span>{duration(new Date(start).toISOString(), new Date(end).toISOString())}</span></div>
    </div>
  );
}
