import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { NodeItem, NodeRun, Output, RunDetail } from "../api/types";
import { cellText, numericOutputs, pagesFor, sortOptions, sortedOutput } from "../graph/items";
import { outputName } from "../graph/model";
import { runFinished } from "../graph/runs";
import { useStore } from "../store";
import { StatusChip } from "../ui/StatusChip";
import { ItemsHistogram } from "./ItemsHistogram";
import { NodeRunCard, itemLabel } from "./NodeRunCard";

const PAGE = 200;
const NO_OUTPUTS: Output[] = [];
const ROW_HEIGHT = 28;

/**
 * A fanned-out node's items as a virtualized table: only the rows in view are drawn, and only
 * their pages are asked of the items endpoint, so 5,000 items scroll like 20. Filters (status,
 * item value) and the sort go to the endpoint; a row opens the item's card (outputs, error,
 * executed notebook).
 */
export function ItemsTable({ nr, run, readOnly }: { nr: NodeRun; run: RunDetail; readOnly: boolean }) {
  const tenant = useStore((s) => s.tenant);
  const showRun = useStore((s) => s.showRun);
  const toast = useStore((s) => s.toast);
  const [status, setStatus] = useState("");
  const [text, setText] = useState("");
  const [item, setItem] = useState("");
  const [sort, setSort] = useState("map_index");
  const [count, setCount] = useState<number | null>(null);
  const [pages, setPages] = useState<Map<number, NodeItem[]>>(new Map());
  const [selected, setSelected] = useState<NodeItem | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const asked = useRef(new Set<number>());
  const scroller = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const t = setTimeout(() => setItem(text.trim()), 250); // ask once the user pauses typing
    return () => clearTimeout(t);
  }, [text]);

  // A new query (or an item that finished: the node's counts changed) starts from an empty cache.
  const counts = JSON.stringify(nr.items);
  const query = useMemo(() => ({ status, item, sort, counts }), [status, item, sort, counts]);
  const load = useCallback((page: number) => {
    const mine = asked.current; // this query's pages: a newer query starts a new set
    if (mine.has(page)) return;
    mine.add(page);
    endpoints.nodeItems(tenant, run.id, nr.node, { status: query.status, item: query.item, sort: query.sort, limit: PAGE, offset: page * PAGE })
      .then((res) => {
        if (asked.current !== mine) return; // the answer to an older query (its page 0 may come after the new one's)
        setCount(res.count);
        setPages((old) => new Map(old).set(page, res.results));
        setError("");
      }, (e) => setError(e instanceof ApiError ? e.message : String(e)));
  }, [tenant, run.id, nr.node, query]);
  useEffect(() => {
    asked.current = new Set();
    setPages(new Map());
    load(0);
  }, [load]);

  const rows = useVirtualizer({ count: count ?? 0, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const shown = rows.getVirtualItems();
  const first = shown[0]?.index ?? 0;
  const last = shown[shown.length - 1]?.index ?? -1;
  useEffect(() => { for (const p of pagesFor(first, last, PAGE)) load(p); }, [first, last, load]);

  const loaded = pages.get(0) ?? [];
  // The node as drawn now: its declared outputs, besides those the loaded items show.
  const declared = useStore((s) => s.nodes.find((n) => n.id === nr.node)?.data.node.outputs) ?? NO_OUTPUTS;
  const outputs = useMemo(() => [...new Set([...declared.map(outputName), ...loaded.flatMap((i) => Object.keys(i.outputs ?? {}))])].sort(), [declared, loaded]);
  const column = sortedOutput(sort) ?? outputs[0] ?? null;
  const failed = (nr.items?.failed ?? 0) + (nr.items?.upstream_failed ?? 0) + (nr.items?.cancelled ?? 0);

  const retry = async () => {
    setBusy(true);
    try {
      showRun(await endpoints.retryFailedItems(tenant, run.id, nr.node));
      toast("info", `Retrying the ${failed.toLocaleString()} failed item${failed === 1 ? "" : "s"} of ${nr.node}.`);
    } catch (e) {
      toast("error", e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="node-items" data-testid={`items-${nr.node}`}>
      <ItemsHistogram node={nr.node} runId={run.id} outputs={numericOutputs(declared, loaded.map((i) => i.outputs ?? {}))} refresh={counts} />
      <div className="items-filters">
        <select className="input" value={status} aria-label="Items by status" onChange={(e) => setStatus(e.target.value)}>
          <option value="">all statuses</option>
          {Object.entries(nr.items ?? {}).map(([s, n]) => <option key={s} value={s}>{s} ({n.toLocaleString()})</option>)}
        </select>
        <input className="input" type="search" placeholder="Item contains…" aria-label="Item contains" value={text} onChange={(e) => setText(e.target.value)} />
      </div>
      <label className="field compact items-sort">
        <span>Sort by</span>
        <select className="input" value={sort} aria-label="Sort items" onChange={(e) => setSort(e.target.value)}>
          {sortOptions(outputs).map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
        </select>
      </label>
      {error && <div className="callout callout-error" role="alert">{error}</div>}
      <div className="items-table" role="table" aria-label={`Items of ${nr.node}`} aria-rowcount={count ?? 0}>
        <div className="items-row items-header" role="row">
          <span role="columnheader">Item</span><span role="columnheader">Status</span>
          <span role="columnheader">Time</span><span role="columnheader" className="mono">{column ?? ""}</span>
        </div>
        <div className="items-scroll" ref={scroller} data-testid="items-scroll">
          <div style={{ height: rows.getTotalSize(), position: "relative" }}>
            {shown.map((v) => {
              const row = pages.get(Math.floor(v.index / PAGE))?.[v.index % PAGE];
              return (
                <div key={v.key} role="row" aria-rowindex={v.index + 1} data-testid={row ? `item-row-${row.map_index}` : undefined}
                  className={`items-row${row && selected?.map_index === row.map_index ? " selected" : ""}`}
                  style={{ position: "absolute", top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${v.start}px)` }}
                  onClick={() => row && setSelected(row)}>
                  {row ? <>
                    <span role="cell" className="mono" title={itemLabel(row)}>{itemLabel(row)}</span>
                    <span role="cell"><StatusChip status={row.status} /></span>
                    <span role="cell" className="muted">{row.duration_s === null ? "" : `${row.duration_s.toFixed(1)}s`}</span>
                    <span role="cell" className="mono">{column ? cellText(row.outputs?.[column], 14) : ""}</span>
                  </> : <span role="cell" className="muted">…</span>}
                </div>
              );
            })}
          </div>
        </div>
        <div className="muted small" data-testid="items-count">
          {count === null ? "Loading items…" : `${count.toLocaleString()} item${count === 1 ? "" : "s"}${status || item ? " match" : ""}`}
        </div>
      </div>
      {!readOnly && runFinished(run.status) && failed > 0 && (
        <button className="button small" disabled={busy} onClick={retry}
          title="Rerun only the items that did not succeed, then what depends on this node">Retry {failed.toLocaleString()} failed item{failed === 1 ? "" : "s"}</button>
      )}
      {selected && (
        <NodeRunCard key={selected.map_index} node={nr.node} nr={selected} runId={run.id} summary={false} label={`${nr.node} · ${itemLabel(selected)}`} />
      )}
    </div>
  );
}
