import { describe, expect, it } from "vitest";
import { clipCopy, clipPaste } from "./clipboard";
import { graphToFlow } from "./convert";
import { fanOutOffer, fanOutPatch, mapChoices, mapOverWire, pastedMapOver } from "./fanout";
import { CHURN, NOTEBOOKS } from "./fixtures";
import { outputHandle, paramHandle } from "./model";

/** CHURN with a node `lists` (outputs `segments`: list, `n`: int) wired to nothing. */
function churnWithLists() {
  const { nodes, edges } = graphToFlow(CHURN);
  const lists = structuredClone(nodes[0]);
  lists.id = "lists";
  lists.data.node.outputs = [{ name: "segments", type: "list" }, { name: "n", type: "int" }];
  return { nodes: [...nodes, lists], edges };
}

describe("map over", () => {
  it("offers global lists, upstream lists and any other node's lists, without a wire first", () => {
    const { nodes, edges } = churnWithLists();
    const choices = mapChoices("report", nodes, edges, CHURN.parameters);
    expect(choices).toEqual([
      { value: "accounts", from: "global" },
      { value: "train.auc", from: "upstream" }, // a fanned-out node's outputs are lists
      { value: "lists.segments", from: "other node" },
    ]);
    // Not its own outputs, nor those of nodes downstream of it (a cycle), nor non-lists.
    const forIngest = mapChoices("ingest", nodes, edges, CHURN.parameters).map((c) => c.value);
    expect(forIngest).toEqual(["accounts", "lists.segments"]);
  });

  it("orders the node after the list's node when nothing does yet", () => {
    const { nodes, edges } = churnWithLists();
    expect(mapOverWire("report", "lists.segments", edges)).toMatchObject({ source: "lists", target: "report", id: "lists->report" });
    expect(mapOverWire("report", "ingest.dataset_path", edges)).toBeNull(); // already upstream
    expect(mapOverWire("report", "accounts", edges)).toBeNull();
    expect(nodes).toHaveLength(4);
  });

  it("offers to fan out when a list is dropped on a parameter taking one value", () => {
    const { nodes, edges } = churnWithLists();
    nodes[1].data.node.map_over = null; // train runs once
    const drop = (output: string, param: string, target = "train") =>
      fanOutOffer({ source: "lists", sourceHandle: outputHandle(output), target, targetHandle: paramHandle(param) }, nodes, edges, NOTEBOOKS);
    expect(drop("segments", "account")).toEqual({ map_over: "lists.segments", map_parameter: "account" });
    expect(drop("n", "account")).toBeNull(); // not a list: the wire is refused as before
    expect(drop("segments", "aucs", "report")).toBeNull(); // a list parameter takes the list
    nodes[1].data.node.map_over = "accounts";
    expect(drop("segments", "account")).toBeNull(); // already fanned out
  });
});

describe("fanning out and back", () => {
  it("sets the list (and the parameter when given), and running once drops what only a fanned-out node has", () => {
    expect(fanOutPatch("accounts")).toEqual({ map_over: "accounts" });
    expect(fanOutPatch("lists.segments", "account")).toEqual({ map_over: "lists.segments", map_parameter: "account" });
    const train = { ...CHURN.nodes[1], max_failed_ratio: 0.1, reuse_kernel: true };
    expect({ ...train, ...fanOutPatch(null) }).toMatchObject(
      { map_over: null, map_parameter: null, max_failed_items: null, max_failed_ratio: null, reuse_kernel: false });
  });
});

describe("pasting a fanned-out node", () => {
  it("keeps a list it can see, follows a pasted one, and drops one it cannot see", () => {
    const { nodes } = churnWithLists();
    const rename = new Map([["lists", "lists_2"]]);
    expect(pastedMapOver("accounts", rename, nodes, CHURN.parameters)).toBe("accounts");
    expect(pastedMapOver("accounts", rename, nodes, [])).toBeNull(); // another workflow, without that global
    expect(pastedMapOver("lists.segments", rename, nodes, [])).toBe("lists_2.segments");
    expect(pastedMapOver("ingest.dataset_path", new Map(), nodes, [])).toBe("ingest.dataset_path");
    expect(pastedMapOver("gone.items", new Map(), nodes, [])).toBeNull();
  });

  it("clears the fan-out of a node pasted where its list is not, and wires it after a list's node it keeps", () => {
    const { nodes, edges } = churnWithLists();
    nodes[1].data.node = { ...nodes[1].data.node, map_over: "lists.segments", max_failed_items: 2, reuse_kernel: true };
    nodes[1].selected = true;
    const clip = clipCopy(nodes, edges);
    const here = clipPaste(clip, new Set(nodes.map((n) => n.id)), undefined, { nodes, edges, globals: CHURN.parameters });
    expect(here.nodes[0].data.node).toMatchObject({ map_over: "lists.segments", max_failed_items: 2, reuse_kernel: true });
    expect(here.wires).toEqual([expect.objectContaining({ source: "lists", target: "train_2" })]);

    const elsewhere = clipPaste(clip, new Set(), undefined, { nodes: [], edges: [], globals: [] });
    // Without its list it runs once: what only a fanned-out node may have goes with it (validation refuses it).
    expect(elsewhere.nodes[0].data.node).toMatchObject({ map_over: null, map_parameter: null, max_failed_items: null, reuse_kernel: false });
    expect(elsewhere.wires).toEqual([]);
  });
});
