import { Background, BackgroundVariant, Controls, MiniMap, ReactFlow, useUpdateNodeInternals } from "@xyflow/react";
import { useEffect, useRef, useState } from "react";
import { type FanOutOffer, fanOutOffer } from "../graph/fanout";
import { useStore } from "../store";
import { ConfirmDialog } from "../ui/Dialogs";
import type { LoomNode } from "../types";
import { useDetailed } from "./NotebookNode";
import { nodeTypes } from "./nodeTypes";
import { useDnD } from "./useDnD";
import { useFitAll } from "./useFitAll";

const MINIMAP_COLOURS: Record<string, string> = {
  success: "#16a34a", failed: "#dc2626", running: "#2563eb", queued: "#94a3b8",
  upstream_failed: "#ea580c", skipped: "#cbd5e1", cancelled: "#64748b",
};

export function Canvas({ readOnly }: { readOnly: boolean }) {
  const nodes = useStore((s) => s.nodes);
  const edges = useStore((s) => s.edges);
  const onNodesChange = useStore((s) => s.onNodesChange);
  const onEdgesChange = useStore((s) => s.onEdgesChange);
  const onConnect = useStore((s) => s.onConnect);
  const connectionVerdict = useStore((s) => s.connectionVerdict);
  const toast = useStore((s) => s.toast);
  const checkpoint = useStore((s) => s.checkpoint);
  const setPanel = useStore((s) => s.setPanel);
  const loaded = useStore((s) => s.workflowId);
  const loadSeq = useStore((s) => s.loadSeq);
  const fanOut = useStore((s) => s.fanOut);
  const [offer, setOffer] = useState<(FanOutOffer & { target: string }) | null>(null);
  const { onDragOver, onDrop } = useDnD();
  const fitAll = useFitAll();

  // Fit once per load, not when the first node is dropped on an empty canvas (that would
  // move the view under the user's pointer).
  useEffect(() => {
    if (loadSeq) fitAll(false);
  }, [loadSeq, fitAll]);

  // Crossing the detail zoom adds or removes handles: measure every node again, in one batch.
  const detailed = useDetailed();
  const updateNodeInternals = useUpdateNodeInternals();
  const lastDetailed = useRef(detailed);
  useEffect(() => {
    if (lastDetailed.current === detailed) return;
    lastDetailed.current = detailed;
    updateNodeInternals(useStore.getState().nodes.map((n) => n.id));
  }, [detailed, updateNodeInternals]);

  const minimapColour = (n: LoomNode) => {
    const s = useStore.getState();
    const st = s.runStatus.get(n.id);
    if (st) return MINIMAP_COLOURS[st.status] ?? "#94a3b8";
    return s.errorsByNode.has(n.id) ? "#f87171" : "#c7d2fe";
  };

  return (
    <div className="canvas" onDragOver={onDragOver} onDrop={onDrop} data-testid="canvas">
      <ReactFlow<LoomNode>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        isValidConnection={(c) => connectionVerdict({ ...c, sourceHandle: c.sourceHandle ?? null, targetHandle: c.targetHandle ?? null }).ok}
        onConnectEnd={(_, state) => {
          // A refused wire ends over a handle that React Flow marked invalid: say why.
          if (state.isValid !== false || !state.fromHandle || !state.toHandle) return;
          const [from, to] = state.fromHandle.type === "source" ? [state.fromHandle, state.toHandle] : [state.toHandle, state.fromHandle];
          const c = { source: from.nodeId, sourceHandle: from.id ?? null, target: to.nodeId, targetHandle: to.id ?? null };
          // A list dropped on a parameter taking one value: offer to fan out over it instead.
          const s = useStore.getState();
          const fan = fanOutOffer(c, s.nodes, s.edges, s.notebookMap);
          if (fan) return setOffer({ ...fan, target: c.target });
          const verdict = connectionVerdict(c);
          if (!verdict.ok) toast("error", verdict.reason);
        }}
        onNodeDragStart={() => checkpoint()}
        onNodeClick={() => setPanel("node")}
        onlyRenderVisibleElements={nodes.length > 150}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={["Meta", "Control", "Shift"]}
        minZoom={0.05}
        maxZoom={2}
        defaultEdgeOptions={{ type: "default" }}
        proOptions={{ hideAttribution: true }}
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd5e1" />
        <Controls showInteractive={false} showFitView={false} position="bottom-left" />
        <MiniMap<LoomNode> pannable zoomable nodeColor={minimapColour} position="bottom-right" ariaLabel="Minimap" style={{ width: 168, height: 112 }} />
      </ReactFlow>
      {offer && (
        <ConfirmDialog title="Fan out over this list?" confirm="Fan out"
          text={`${offer.map_over} is a list; '${offer.map_parameter}' of ${offer.target} takes one value. Fan ${offer.target} out: one run per item of ${offer.map_over}, each item going to '${offer.map_parameter}'.`}
          onConfirm={() => { fanOut(offer.target, offer.map_over, offer.map_parameter); setOffer(null); }}
          onClose={() => setOffer(null)} />
      )}
      {nodes.length === 0 && loaded !== null && (
        <div className="canvas-empty">
          <div>
            <strong>Drag a notebook here</strong>
            <p className="muted">from the palette on the left, then wire an output (right side) into a parameter (left side).</p>
          </div>
        </div>
      )}
    </div>
  );
}
