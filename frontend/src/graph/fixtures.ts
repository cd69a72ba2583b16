// Small graphs and notebooks for the unit tests.
import type { Graph, Notebook, NotebookParameter } from "../api/types";

export function param(name: string, type: NotebookParameter["type"], def: NotebookParameter["default"] = null, required = false): NotebookParameter {
  return { name, type, default: def, help: "", required, default_source: JSON.stringify(def) };
}

export function notebook(name: string, parameters: NotebookParameter[]): Notebook {
  return { id: 1, name, version: 1, sha256: "", kernel_name: "python3", parameters, outputs: [], created_at: "", updated_at: "" };
}

export const NOTEBOOKS = new Map(
  [
    notebook("ingest.ipynb", [param("source", "str", "warehouse"), param("run_date", "str", "2026-01-01")]),
    notebook("train.ipynb", [param("input_path", "str", null, true), param("account", "str", "acme"), param("rate", "float", 0.1)]),
    notebook("report.ipynb", [param("aucs", "list", null, true), param("threshold", "float", 0.5)]),
  ].map((n) => [n.name, n]),
);

export const CHURN: Graph = {
  name: "Churn",
  description: "",
  schedule: "@daily",
  start_date: "2026-11-01",
  catchup: false,
  tags: [],
  alerts: [],
  parameters: [
    { name: "run_date", type: "str", default: "2026-11-01", help: "" },
    { name: "accounts", type: "list", default: ["acme", "globex"], help: "" },
  ],
  nodes: [
    { id: "ingest", label: "", description: "", notebook: "ingest.ipynb", parameters: { source: "lake" },
      outputs: [{ name: "dataset_path", type: "str" }, { name: "row_count", type: "int" }], retries: 1, retry_delay_s: 5,
      timeout_s: 600, memory_mb: null, max_procs: null, trigger_rule: "all_success", pool: null, queue: null, map_over: null, map_parameter: null,
      max_active: null, max_failed_items: null, max_failed_ratio: null, reuse_kernel: false, connections: [], cache: true, position: { x: 60, y: 120 } },
    { id: "train", label: "", description: "", notebook: "train.ipynb", parameters: {},
      outputs: [{ name: "auc", type: "float" }], retries: 0, retry_delay_s: 60, timeout_s: null, memory_mb: null, max_procs: null, trigger_rule: "all_success",
      pool: null, queue: null, map_over: "accounts", map_parameter: "account", max_active: null, max_failed_items: null, max_failed_ratio: null, reuse_kernel: false, connections: [], cache: true,
      position: { x: 400, y: 120 } },
    { id: "report", label: "", description: "", notebook: "report.ipynb", parameters: { threshold: 0.75 },
      outputs: ["best_account"], retries: 0, retry_delay_s: 60, timeout_s: null, memory_mb: null, max_procs: null, trigger_rule: "all_success",
      pool: null, queue: null, map_over: null, map_parameter: null, max_active: null, max_failed_items: null, max_failed_ratio: null, reuse_kernel: false, connections: [], cache: true,
      position: { x: 740, y: 120 } },
  ],
  edges: [
    { source: "ingest", target: "train", bind: { dataset_path: "input_path" } },
    { source: "train", target: "report", bind: { auc: "aucs" } },
  ],
};
