import { useReactFlow } from "@xyflow/react";
import type { DragEvent } from "react";
import { useStore } from "../store";

export const DND_TYPE = "application/x-loom-notebook";

/** Drag a notebook from the palette; drop it on the canvas where the pointer is. */
export function useDnD() {
  const { screenToFlowPosition } = useReactFlow();
  const addNode = useStore((s) => s.addNode);
  return {
    onDragStart: (e: DragEvent, notebook: string) => {
      e.dataTransfer.setData(DND_TYPE, notebook);
      e.dataTransfer.setData("text/plain", notebook);
      e.dataTransfer.effectAllowed = "copy";
    },
    onDragOver: (e: DragEvent) => {
      if (e.dataTransfer.types.includes(DND_TYPE)) {
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
      }
    },
    onDrop: (e: DragEvent) => {
      const notebook = e.dataTransfer.getData(DND_TYPE);
      if (!notebook) return;
      e.preventDefault();
      const p = screenToFlowPosition({ x: e.clientX, y: e.clientY });
      // Drop with the header under the pointer rather than the node's corner.
      addNode(notebook, { x: Math.round(p.x - 120), y: Math.round(p.y - 20) });
    },
  };
}
