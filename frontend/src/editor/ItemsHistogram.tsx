import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { ItemsHistogram as Histogram } from "../api/types";
import { cellText, histogramBars } from "../graph/items";
import { useStore } from "../store";

const WIDTH = 300;
const HEIGHT = 90;

/** A numeric output across a node's items (AUC per account), counted into bins by the server. */
export function ItemsHistogram({ node, runId, outputs, refresh }: { node: string; runId: number; outputs: string[]; refresh: string }) {
  const tenant = useStore((s) => s.tenant);
  const [chosen, setChosen] = useState("");
  const [hist, setHist] = useState<Histogram | null>(null);
  const [error, setError] = useState("");
  const output = outputs.includes(chosen) ? chosen : outputs[0] ?? "";
  useEffect(() => {
    if (!output) return;
    let live = true;
    endpoints.itemsHistogram(tenant, runId, node, output).then(
      (h) => live && (setHist(h), setError("")), (e) => live && setError(e instanceof ApiError ? e.message : String(e)));
    return () => { live = false; };
  }, [tenant, runId, node, output, refresh]);
  if (!output) return null;
  const bars = hist ? histogramBars(hist.bins, WIDTH, HEIGHT) : [];
  return (
    <figure className="items-histogram" data-testid={`histogram-${node}`}>
      <figcaption className="items-filters">
        <span className="small strong">Distribution of</span>
        <select className="input" value={output} aria-label="Histogram of" onChange={(e) => setChosen(e.target.value)}>
          {outputs.map((o) => <option key={o} value={o}>{o}</option>)}
        </select>
      </figcaption>
      {error && <div className="callout callout-error" role="alert">{error}</div>}
      {hist && (
        <>
          <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" role="img"
            aria-label={`Histogram of ${output}: ${hist.count} items from ${cellText(hist.min)} to ${cellText(hist.max)}`}>
            {bars.map((b) => (
              <rect key={b.x} x={b.x} y={b.y} width={b.width} height={b.height} className="histogram-bar" data-count={b.bin.count}>
                <title>{`${cellText(b.bin.start)} – ${cellText(b.bin.end)}: ${b.bin.count.toLocaleString()} item${b.bin.count === 1 ? "" : "s"}`}</title>
              </rect>
            ))}
            <line x1={0} x2={WIDTH} y1={HEIGHT - 0.5} y2={HEIGHT - 0.5} className="histogram-axis" />
          </svg>
          <div className="histogram-scale muted small">
            <span>{cellText(hist.min)}</span>
            <span>{hist.count.toLocaleString()} items{hist.missing ? ` · ${hist.missing.toLocaleString()} without a value` : ""}</span>
            <span>{cellText(hist.max)}</span>
          </div>
        </>
      )}
    </figure>
  );
}
