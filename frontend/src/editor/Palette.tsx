import { useReactFlow } from "@xyflow/react";
import { useRef, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import { freeSpot, nodeSize } from "../graph/layout";
import { NODE_DEFAULTS } from "../graph/model";
import { useStore } from "../store";
import { useDnD } from "./useDnD";

/** The tenant's notebooks: search, drag onto the canvas (or click +), upload new ones. */
export function Palette({ readOnly }: { readOnly: boolean }) {
  const notebooks = useStore((s) => s.notebooks);
  const tenant = useStore((s) => s.tenant);
  const loadNotebooks = useStore((s) => s.loadNotebooks);
  const addNode = useStore((s) => s.addNode);
  const toast = useStore((s) => s.toast);
  const [query, setQuery] = useState("");
  const [uploading, setUploading] = useState(false);
  const file = useRef<HTMLInputElement>(null);
  const { onDragStart } = useDnD();
  const { screenToFlowPosition, setCenter, getZoom } = useReactFlow();

  const shown = notebooks.filter((n) => n.name.toLowerCase().includes(query.trim().toLowerCase()));

  const upload = async (files: FileList | null) => {
    setUploading(true);
    for (const f of Array.from(files ?? [])) {
      try {
        const nb = await endpoints.notebookUpload(tenant, f);
        const outs = nb.outputs?.length ? `, ${nb.outputs.length} output${nb.outputs.length === 1 ? "" : "s"} found` : "";
        toast("success", `Uploaded ${nb.name}: ${nb.parameters.length} parameter${nb.parameters.length === 1 ? "" : "s"}${outs}.`);
      } catch (e) {
        toast("error", `${f.name}: ${e instanceof ApiError ? e.message : String(e)}`);
      }
    }
    if (file.current) file.current.value = "";
    await loadNotebooks(tenant).catch(() => undefined);
    setUploading(false);
  };

  // "+" puts the node near the middle of the view, on free canvas: not on the last one, not under the minimap.
  const addAtCentre = (name: string) => {
    const canvas = document.querySelector(".canvas")?.getBoundingClientRect();
    if (!canvas) return addNode(name, { x: 0, y: 0 });
    const toFlow = (r: { left: number; top: number; right: number; bottom: number }) => {
      const a = screenToFlowPosition({ x: r.left, y: r.top });
      const b = screenToFlowPosition({ x: r.right, y: r.bottom });
      return { x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y };
    };
    const { nodes, notebookMap } = useStore.getState();
    const count = (n: (typeof nodes)[number]) => notebookMap.get(n.data.node.notebook)?.parameters.length ?? 0;
    const nb = notebookMap.get(name);
    const size = nodeSize({ id: "", position: { x: 0, y: 0 }, data: { node: { ...NODE_DEFAULTS, outputs: nb?.outputs ?? [] } } }, nb?.parameters.length ?? 0);
    const taken = nodes.map((n) => ({ ...n.position, ...nodeSize(n, count(n)) }));
    const avoid = [...document.querySelectorAll(".canvas .react-flow__minimap, .canvas .react-flow__controls")].map((el) => toFlow(el.getBoundingClientRect()));
    const view = toFlow({ left: canvas.left + 12, top: canvas.top + 12, right: canvas.right - 12, bottom: canvas.bottom - 12 });
    const spot = freeSpot({ x: view.x + view.width / 2, y: view.y + view.height / 2 }, size, taken, avoid, view);
    addNode(name, spot);
    // No room in the view: bring the new node into it.
    const seen = spot.x >= view.x && spot.y >= view.y && spot.x + size.width <= view.x + view.width && spot.y + size.height <= view.y + view.height;
    if (!seen) void setCenter(spot.x + size.width / 2, spot.y + size.height / 2, { zoom: getZoom(), duration: 200 });
  };

  return (
    <aside className="palette" aria-label="Notebooks">
      <div className="panel-head">
        <h3>Notebooks</h3>
        {!readOnly && <>
          <input ref={file} type="file" accept=".ipynb" multiple hidden onChange={(e) => upload(e.target.files)} data-testid="palette-upload-input" />
          <button className="button small" onClick={() => file.current?.click()} disabled={uploading} title="Upload a .ipynb">
            {uploading ? "Uploading…" : "Upload"}
          </button>
        </>}
      </div>
      <input className="search" type="search" placeholder="Search notebooks" value={query} onChange={(e) => setQuery(e.target.value)} aria-label="Search notebooks" />
      <ul className="palette-list">
        {shown.map((nb) => (
          <li key={nb.id} className="palette-item" draggable={!readOnly} onDragStart={(e) => onDragStart(e, nb.name)}
            data-testid={`palette-${nb.name}`} title={readOnly ? nb.name : `Drag ${nb.name} onto the canvas`}>
            <div className="palette-item-main">
              <span className="palette-name mono">{nb.name}</span>
              <span className="muted small">v{nb.version} · {nb.parameters.length} param{nb.parameters.length === 1 ? "" : "s"}{nb.outputs?.length ? ` · ${nb.outputs.length} output${nb.outputs.length === 1 ? "" : "s"}` : ""}</span>
            </div>
            {!readOnly && <button className="icon-button" aria-label={`Add ${nb.name}`} onClick={() => addAtCentre(nb.name)}>+</button>}
          </li>
        ))}
        {shown.length === 0 && <li className="muted small pad">{notebooks.length ? "No notebook matches." : "No notebooks yet: upload one."}</li>}
      </ul>
    </aside>
  );
}
