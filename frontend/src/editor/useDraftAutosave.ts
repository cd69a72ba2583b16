import { useEffect } from "react";
import { draftWrite } from "../graph/drafts";
import { flowToGraph } from "../graph/convert";
import { useStore } from "../store";

/** Keep the unsaved canvas in the browser a moment after each edit, and at once when the page goes. */
export function useDraftAutosave() {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const write = () => {
      clearTimeout(timer);
      timer = undefined;
      const { tenant, workflowId, version, meta, nodes, edges, dirty } = useStore.getState();
      // Saved, discarded or reloaded in between: the draft was cleared then and must stay so.
      if (!dirty || workflowId === null || nodes.some((n) => n.dragging)) return;
      draftWrite(tenant, workflowId, { version, graph: flowToGraph(meta, nodes, edges), savedAt: new Date().toISOString() });
    };
    const unsubscribe = useStore.subscribe((s, prev) => {
      if (!s.dirty || (s.meta === prev.meta && s.nodes === prev.nodes && s.edges === prev.edges)) return;
      clearTimeout(timer);
      timer = setTimeout(write, 300);
    });
    const flush = () => timer !== undefined && write();
    window.addEventListener("pagehide", flush);
    return () => {
      flush();
      unsubscribe();
      window.removeEventListener("pagehide", flush);
    };
  }, []);
}
