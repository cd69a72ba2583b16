import { getViewportForBounds, useReactFlow } from "@xyflow/react";
import { useCallback } from "react";
import { graphBounds } from "../graph/layout";
import { useStore } from "../store";

/**
 * Fit the whole graph. React Flow's own fitView waits until every node is measured, which
 * never happens for nodes it does not render (large graphs render only what is visible),
 * so the bounds come from positions and estimated sizes instead.
 */
export function useFitAll() {
  const { setViewport } = useReactFlow();
  return useCallback(
    (animate = true) => {
      const { nodes, notebookMap } = useStore.getState();
      const el = document.querySelector(".canvas");
      if (!el || !nodes.length) return;
      const { width, height } = el.getBoundingClientRect();
      const bounds = graphBounds(nodes, (n) => notebookMap.get(n.data.node.notebook)?.parameters.length ?? 0);
      void setViewport(getViewportForBounds(bounds, width, height, 0.05, 1, 0.12), animate ? { duration: 200 } : undefined);
    },
    [setViewport],
  );
}
