import { getViewportForBounds, useReactFlow } from "@xyflow/react";
import { useCallback } from "react";
import { graphBounds } from "../graph/layout";
import { useStore } from "../store";

/** The lowest zoom "Fit" goes to: port names (12 px) stay about 11 px on screen. */
export const READABLE_ZOOM = 0.9;

/**
 * Fit the graph at a readable zoom: a graph larger than the view is centred, the rest a pan (or
 * the minimap) away; `whole` shows all of it, however small (an overview). React Flow's
 * own fitView waits until every node is measured, which never happens for nodes it does not
 * render (large graphs render only what is visible), so the bounds come from positions and
 * estimated sizes instead.
 */
export function useFitAll() {
  const { setViewport } = useReactFlow();
  return useCallback(
    (animate = true, whole = false) => {
      const { nodes, notebookMap } = useStore.getState();
      const el = document.querySelector(".canvas");
      if (!el || !nodes.length) return;
      const { width, height } = el.getBoundingClientRect();
      const bounds = graphBounds(nodes, (n) => notebookMap.get(n.data.node.notebook)?.parameters.length ?? 0);
      const viewport = getViewportForBounds(bounds, width, height, whole ? 0.05 : READABLE_ZOOM, 1, 0.12);
      void setViewport(viewport, animate ? { duration: 200 } : undefined);
    },
    [setViewport],
  );
}
