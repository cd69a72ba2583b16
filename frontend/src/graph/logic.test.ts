import { describe, expect, it } from "vitest";
import { clipCopy, clipPaste } from "./clipboard";
import { graphToFlow } from "./convert";
import { CHURN, NOTEBOOKS } from "./fixtures";
import { historyPush, historyRedo, historyUndo } from "./history";
import { nodeIdFor } from "./ids";
import { freeSpot, layoutGraph } from "./layout";
import { parametersResolve } from "./params";
import { itemsChip, nodeStatuses } from "./runs";
import { valueParse } from "./values";

describe("layoutGraph", () => {
  it("lays nodes out left to right along edges without overlaps", () => {
    const { nodes, edges } = graphToFlow(CHURN);
    const pos = layoutGraph(nodes, edges, (n) => NOTEBOOKS.get(n.data.node.notebook)!.parameters.length);
    expect(pos.get("ingest")!.x).toBeLessThan(pos.get("train")!.x);
    expect(pos.get("train")!.x).toBeLessThan(pos.get("report")!.x - 264);
  });

  it("stacks independent nodes in one rank", () => {
    const { nodes } = graphToFlow(CHURN);
    const pos = layoutGraph(nodes, [], () => 2);
    const ys = [...pos.values()].map((p) => p.y).sort((a, b) => a - b);
    expect(ys[1] - ys[0]).toBeGreaterThanOrEqual(50 + 2 * 24 + 10);
  });
});

describe("clipboard", () => {
  it("pastes selected nodes under fresh ids with the wires among them", () => {
    const { nodes, edges } = graphToFlow(CHURN);
    nodes[0].selected = nodes[1].selected = true;
    const clip = clipCopy(nodes, edges);
    expect(clip.nodes.map((n) => n.id)).toEqual(["ingest", "train"]);
    expect(clip.edges).toHaveLength(1);
    const pasted = clipPaste(clip, new Set(nodes.map((n) => n.id)));
    expect(pasted.nodes.map((n) => n.id)).toEqual(["ingest_2", "train_2"]);
    expect(pasted.edges[0]).toMatchObject({ id: "ingest_2.dataset_path->train_2.input_path", source: "ingest_2", target: "train_2" });
    expect(pasted.nodes[0].position).toEqual({ x: 100, y: 160 });
  });
});

describe("nodeIdFor", () => {
  it("makes identifiers that are unique", () => {
    expect(nodeIdFor("Train model.ipynb", new Set())).toBe("train_model");
    expect(nodeIdFor("ingest.ipynb", new Set(["ingest", "ingest_2"]))).toBe("ingest_3");
    expect(nodeIdFor("2024 report.ipynb", new Set())).toBe("n_2024_report");
  });
});

describe("parametersResolve", () => {
  it("says which value wins: map > override > node > edge > global > default", () => {
    const { nodes, edges } = graphToFlow(CHURN);
    const train = nodes[1];
    train.data.node.parameters = { rate: 0.5 };
    const r = parametersResolve(train, NOTEBOOKS.get("train.ipynb")!.parameters, edges, CHURN.parameters);
    const winner = Object.fromEntries(r.map((x) => [x.param.name, x.winner]));
    expect(winner.input_path).toEqual({ layer: "edge", from: "ingest.dataset_path" });
    expect(winner.account).toEqual({ layer: "map", from: "accounts" });
    expect(winner.rate).toEqual({ layer: "node", value: 0.5 });
    const ingest = parametersResolve(nodes[0], NOTEBOOKS.get("ingest.ipynb")!.parameters, edges, CHURN.parameters, { source: "s3" });
    expect(ingest.map((x) => x.winner?.layer)).toEqual(["override", "global"]);
    expect(ingest[0].layers.map((l) => l.layer)).toEqual(["override", "node", "default"]);
  });

  it("leaves a required parameter with nothing to give it a value unresolved", () => {
    const { nodes } = graphToFlow(CHURN);
    const r = parametersResolve(nodes[1], NOTEBOOKS.get("train.ipynb")!.parameters, [], []);
    expect(r[0].winner).toBeNull();
  });
});

describe("valueParse", () => {
  it("parses form text by parameter type", () => {
    expect(valueParse("42", "int")).toEqual({ ok: true, value: 42 });
    expect(valueParse("4.2", "int")).toMatchObject({ ok: false });
    expect(valueParse("1e3", "float")).toEqual({ ok: true, value: 1000 });
    expect(valueParse('["a"]', "list")).toEqual({ ok: true, value: ["a"] });
    expect(valueParse('{"a": 1}', "list")).toMatchObject({ ok: false });
    expect(valueParse(" x ", "str")).toEqual({ ok: true, value: " x " });
    expect(valueParse("true", "bool")).toEqual({ ok: true, value: true });
  });
});

describe("nodeStatuses", () => {
  const nr = (node: string, status: string, items: Record<string, number> | null = null, map_index: number | null = null) =>
    ({ node, map_index, status, attempts: 1, started_at: null, ended_at: null, outputs: {}, error: null, warnings: [], items }) as never;

  it("counts a fanned-out node's items from its row", () => {
    const s = nodeStatuses([nr("a", "success"), nr("b", "running", { success: 1, running: 1 }), nr("b", "success", null, 0)]);
    expect(s.get("a")).toMatchObject({ status: "success", total: 1, done: 1, failed: 0 });
    expect(s.get("b")).toMatchObject({ status: "running", total: 2, done: 1 });
    expect(itemsChip(s.get("b")!)).toBe("1/2");
  });

  it("says how many items failed, not how many finished", () => {
    const s = nodeStatuses([nr("m", "failed", { success: 2, failed: 1 }), nr("t", "success", { success: 2, failed: 1 })]);
    expect(itemsChip(s.get("m")!)).toBe("· 1 of 3 failed");
    expect(s.get("t")!.status).toBe("success"); // within its allowance of failed items
    expect(itemsChip(nodeStatuses([nr("k", "success", { success: 3 })]).get("k")!)).toBe("· 3 items");
  });
});

describe("history", () => {
  it("undoes and redoes snapshots", () => {
    let h = historyPush<number>({ past: [], future: [] }, 1);
    h = historyPush(h, 2);
    const u = historyUndo(h, 3)!;
    expect(u.state).toBe(2);
    const r = historyRedo(u.history, u.state)!;
    expect(r.state).toBe(3);
    expect(historyUndo({ past: [], future: [] }, 0)).toBeNull();
  });
});

describe("freeSpot", () => {
  it("puts each new node beside the others, clear of what to avoid", () => {
    const size = { width: 264, height: 100 };
    const taken: { x: number; y: number; width: number; height: number }[] = [];
    const avoid = [{ x: 300, y: 200, width: 200, height: 150 }];
    const view = { x: -600, y: -400, width: 1200, height: 800 };
    for (let i = 0; i < 6; i++) {
      const p = freeSpot({ x: 0, y: 0 }, size, taken, avoid, view);
      const box = { ...p, ...size };
      for (const t of [...taken, ...avoid]) {
        const apart = box.x >= t.x + t.width || t.x >= box.x + box.width || box.y >= t.y + t.height || t.y >= box.y + box.height;
        expect(apart).toBe(true);
      }
      taken.push(box);
    }
    expect(taken[0]).toEqual({ x: -132, y: -50, ...size }); // the first one right at the centre
  });
});
