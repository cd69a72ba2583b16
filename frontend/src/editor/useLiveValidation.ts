import { useEffect } from "react";
import { endpoints } from "../api/endpoints";
import { flowToGraph } from "../graph/convert";
import { useStore } from "../store";

/** Ask the server to validate the canvas a moment after each edit, so problems show before a save. */
export function useLiveValidation() {
  const meta = useStore((s) => s.meta);
  const nodes = useStore((s) => s.nodes);
  const edges = useStore((s) => s.edges);
  const dirty = useStore((s) => s.dirty);
  const dragging = nodes.some((n) => n.dragging);
  useEffect(() => {
    if (!dirty || dragging) return;
    const { tenant, workflowId } = useStore.getState();
    if (workflowId === null) return;
    let cancelled = false;
    const timer = setTimeout(() => {
      endpoints.workflowValidate(tenant, workflowId, flowToGraph(meta, nodes, edges)).then(
        (r) => !cancelled && useStore.getState().setErrors(r.errors),
        () => undefined, // a graph the serializer refuses shows its problem when saved
      );
    }, 700);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [meta, nodes, edges, dirty, dragging]);
}
