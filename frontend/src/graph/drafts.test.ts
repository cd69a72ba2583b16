import { describe, expect, it } from "vitest";
import type { Graph } from "../api/types";
import { draftClear, draftDiffers, draftRead, draftWrite } from "./drafts";

const memory = () => {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
};
const graph = (name: string) => ({ name, nodes: [], edges: [], parameters: [] }) as unknown as Graph;

describe("drafts", () => {
  it("are kept per workflow and cleared", () => {
    const kv = memory();
    draftWrite("demo", 1, { version: 3, graph: graph("a"), savedAt: "2026-01-01T00:00:00Z" }, kv);
    expect(draftRead("demo", 1, kv)?.version).toBe(3);
    expect(draftRead("demo", 2, kv)).toBeNull();
    expect(draftRead("other", 1, kv)).toBeNull();
    draftClear("demo", 1, kv);
    expect(draftRead("demo", 1, kv)).toBeNull();
  });

  it("ignore what is not a draft", () => {
    const kv = memory();
    kv.setItem("loom.draft.demo.1", "{not json");
    expect(draftRead("demo", 1, kv)).toBeNull();
    kv.setItem("loom.draft.demo.1", JSON.stringify({ version: 1 }));
    expect(draftRead("demo", 1, kv)).toBeNull();
  });

  it("differ only by content, not key order", () => {
    const a = { name: "x", nodes: [], edges: [], parameters: [] } as unknown as Graph;
    const b = { parameters: [], edges: [], nodes: [], name: "x" } as unknown as Graph;
    expect(draftDiffers(a, b)).toBe(false);
    expect(draftDiffers(a, graph("y"))).toBe(true);
  });
});
