import type { NodeRun } from "../api/types";
import { useStore } from "../store";
import { ItemsTable } from "./ItemsTable";
import { NodeRunCard } from "./NodeRunCard";

/** What the shown run did for one node: status, attempts, outputs, error, executed notebooks;
 * for a fanned-out node, its items (ItemsTable). */
export function NodeRunDetails({ nodeId, readOnly }: { nodeId: string; readOnly: boolean }) {
  const run = useStore((s) => s.run);
  if (!run) return null;
  const mine: NodeRun | undefined = run.nodes.find((n) => n.node === nodeId && n.map_index === null);
  return (
    <section className="section-box run-details" aria-label="Node run">
      <div className="legend-like">Run #{run.id}</div>
      {!mine && <p className="muted small">This node has not started in run #{run.id}.</p>}
      {mine && <NodeRunCard node={mine.node} nr={mine} runId={run.id} summary={!!mine.items} />}
      {mine?.items && <ItemsTable nr={mine} run={run} readOnly={readOnly} />}
    </section>
  );
}
