import { describe, expect, it } from "vitest";
import { flowToGraph, graphToFlow } from "./convert";
import { CHURN } from "./fixtures";
import { DEP_IN, DEP_OUT } from "./model";

const { nodes: _n, edges: _e, ...meta } = CHURN;

describe("graphToFlow / flowToGraph", () => {
  it("makes one editor edge per binding, with typed handles", () => {
    const { nodes, edges } = graphToFlow(CHURN);
    expect(nodes.map((n) => n.id)).toEqual(["ingest", "train", "report"]);
    expect(nodes[1].data.node.map_over).toBe("accounts");
    expect(edges).toContainEqual(
      expect.objectContaining({ source: "ingest", target: "train", sourceHandle: "out:dataset_path", targetHandle: "in:input_path" }),
    );
  });

  it("round-trips the API graph unchanged", () => {
    const { nodes, edges } = graphToFlow(CHURN);
    expect(flowToGraph(meta, nodes, edges)).toEqual(CHURN);
  });

  it("merges several bindings between one pair into one API edge", () => {
    const g = { ...CHURN, edges: [{ source: "ingest", target: "train", bind: { dataset_path: "input_path", row_count: "rate" } }] };
    const flow = graphToFlow(g);
    expect(flow.edges).toHaveLength(2);
    expect(flowToGraph(meta, flow.nodes, flow.edges).edges).toEqual(g.edges);
  });

  it("keeps an ordering-only edge as a dep wire", () => {
    const g = { ...CHURN, edges: [{ source: "ingest", target: "report", bind: {} }] };
    const flow = graphToFlow(g);
    expect(flow.edges).toEqual([expect.objectContaining({ sourceHandle: DEP_OUT, targetHandle: DEP_IN })]);
    expect(flowToGraph(meta, flow.nodes, flow.edges).edges).toEqual(g.edges);
  });

  it("fills node defaults and rounds positions", () => {
    const g = { ...CHURN, nodes: [{ id: "x", notebook: "ingest.ipynb", position: { x: 1.6, y: 2.2 } } as never], edges: [] };
    const flow = graphToFlow(g);
    expect(flow.nodes[0].data.node.retries).toBe(0);
    expect(flowToGraph(meta, flow.nodes, []).nodes[0].position).toEqual({ x: 2, y: 2 });
  });
});
