// The shapes of Loom's REST API, as the backend serializers define them.

export type ParamType = "str" | "int" | "float" | "bool" | "list" | "dict";
export const PARAM_TYPES: ParamType[] = ["str", "int", "float", "bool", "list", "dict"];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface NotebookParameter {
  name: string;
  type: ParamType | null;
  default: Json;
  help: string;
  required: boolean;
  default_source: string;
}

export interface Notebook {
  id: number;
  name: string;
  version: number;
  sha256: string;
  kernel_name: string;
  parameters: NotebookParameter[];
  created_at: string;
  updated_at: string;
}

export type Output = string | { name: string; type?: ParamType | null };

export interface GraphNode {
  id: string;
  label: string;
  description: string;
  notebook: string;
  parameters: Record<string, Json>;
  outputs: Output[];
  retries: number;
  retry_delay_s: number;
  timeout_s: number | null;
  trigger_rule: string;
  pool: string | null;
  queue: string | null;
  map_over: string | null;
  map_parameter: string | null;
  max_active: number | null;
  connections: string[];
  position: { x: number; y: number };
}

export interface GraphEdge {
  source: string;
  target: string;
  bind: Record<string, string>; // {upstream output: downstream parameter}
}

export interface GlobalParameter {
  name: string;
  type: ParamType;
  default: Json;
  help: string;
}

export interface Graph {
  name: string;
  description: string;
  schedule: string | null;
  start_date: string;
  catchup: boolean;
  tags: string[];
  parameters: GlobalParameter[];
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface GraphError {
  node: string | null;
  field: string;
  message: string;
}

export type RunStatus = "queued" | "running" | "success" | "failed" | "skipped" | "upstream_failed" | "cancelled";
export const FINISHED: RunStatus[] = ["success", "failed", "skipped", "upstream_failed", "cancelled"];

export interface RunSummary {
  id: number;
  status: RunStatus;
  created_at: string;
}

export interface WorkflowListItem {
  id: number;
  name: string;
  latest_version: number;
  created_at: string;
  updated_at: string;
  last_run?: RunSummary | null;
}

export interface WorkflowDetail {
  id: number;
  name: string;
  version: number;
  latest_version: number;
  graph: Graph;
  notebook_pins: Record<string, { version: number; sha256: string }>;
  errors: GraphError[];
  created_at: string;
  updated_at: string;
}

export interface Conflict {
  detail: string;
  current_version: number;
  current: WorkflowDetail;
}

export interface Tenant {
  slug: string;
  name: string;
  role: "admin" | "editor" | "viewer";
  concurrency_quota?: number;
}

export interface User {
  id: number;
  username: string;
  is_staff: boolean;
}

export interface Run {
  id: number;
  workflow: number;
  version: number;
  engine: "local" | "airflow";
  status: RunStatus;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  created_by: string | null;
}

export interface NodeRunError {
  message: string;
  cell_index: number | null;
  cell_source: string | null;
  traceback: string | string[] | null;
}

export interface NodeRun {
  node: string;
  map_index: number | null;
  status: RunStatus;
  attempts: number;
  started_at: string | null;
  ended_at: string | null;
  outputs: Record<string, Json>;
  error: NodeRunError | null;
}

export interface RunDetail extends Run {
  parameters: Record<string, Json>;
  error: string | null;
  nodes: NodeRun[];
}
