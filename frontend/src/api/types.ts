// The shapes of Loom's REST API. Graph types are aliases of schema.d.ts, which
// scripts/api_types.sh generates from the backend's OpenAPI schema (never edit it by hand).
// The interfaces below the graph's are still hand-written: their serializers (catalog, runs,
// tenancy) do not describe their JSON fields yet, so the generated types are looser.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type ParamType = Schemas["ParamType"];
export const PARAM_TYPES: ParamType[] = ["str", "int", "float", "bool", "list", "dict"];

export type Json = Schemas["JsonValue"];

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
  /** Discovered at upload: names given to sb.glue, and variables of the cell tagged `outputs`. */
  outputs: { name: string; type: ParamType | null }[];
  created_at: string;
  updated_at: string;
}

export interface NotebookDetail extends Notebook {
  content: { cells?: { cell_type: string; source: string | string[]; metadata?: { tags?: string[] } }[] };
  versions: { number: number; sha256: string; created_at: string; parameters: NotebookParameter[]; outputs: Notebook["outputs"] }[];
  used_by: string[];
  /** Every workflow that runs it in some version, with those versions and the notebook version each pinned. */
  used_in: Schemas["NotebookUsage"][];
}

/** Two versions of a notebook compared by nbdime (GET notebooks/{id}/diff/), cell by cell. */
export type NotebookDiff = Schemas["NotebookDiff"];

export type Output = Schemas["Node"]["outputs"][number];
export type GraphNode = Schemas["Node"];
export type GraphEdge = Schemas["Edge"];
export type GlobalParameter = Schemas["GlobalParameter"];
export type Graph = Schemas["Graph"];
export type GraphError = Schemas["GraphError"];
export type WorkflowDetail = Schemas["WorkflowDetail"];
export type WorkflowVersion = Schemas["WorkflowVersion"];
export type Conflict = Schemas["Stale"];
export type User = Schemas["User"];
export type Engine = Schemas["Engine"];
export type ApiToken = Schemas["ApiToken"];
export type ApiTokenCreated = Schemas["ApiTokenCreated"];
export type ApiTokenCreate = Schemas["ApiTokenCreateRequest"];
export type Role = Schemas["RoleEnum"];
export type AlertRule = Schemas["AlertRule"];
export type AlertEvent = AlertRule["on"][number];
export const ALERT_EVENTS: AlertEvent[] = ["failure", "success", "recovery", "duration"];
export type Channel = Schemas["Channel"];
export type ChannelRequest = Schemas["ChannelRequest"];
export type Delivery = Schemas["Delivery"];
export type DeliveryPage = Schemas["PaginatedDeliveryList"];
export const ROLES: Role[] = ["viewer", "editor", "admin"];
export type Member = Schemas["Member"];
export type Invitation = Schemas["Invitation"];
export type InvitationPreview = Schemas["InvitationPreview"];
export type InvitationJoined = Schemas["InvitationJoined"];
export type Connection = Schemas["Connection"];
export type ConnectionRequest = Schemas["ConnectionRequest"];
export type ConnectionKind = Schemas["ConnectionKind"];
export type ConnectionTest = Schemas["ConnectionTest"];
export type AuditEntry = Schemas["AuditEntry"];
export type AuditAction = Schemas["ActionEnum"];
export type PlatformTenant = Schemas["PlatformTenant"];
export type TenantOpen = Schemas["TenantOpenRequest"];
export type TenantPlatformUpdate = Schemas["PatchedTenantPlatformUpdateRequest"];
export type TenantUsage = Schemas["TenantUsage"];
export type TenantDetail = Schemas["Tenant"];
export type TenantUpdate = Schemas["PatchedTenantUpdateRequest"];
export type RunStatus = Schemas["StatusEnum"];
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

export interface Tenant {
  slug: string;
  name: string;
  role: "admin" | "editor" | "viewer";
  concurrency_quota?: number;
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
  trigger: Schemas["TriggerEnum"];
  duration_s: number | null;
  /** The run's parameters whose values differ from the workflow's defaults. */
  parameters_changed: Record<string, Json>;
  logical_date?: string | null;
  data_interval_start?: string | null;
  data_interval_end?: string | null;
}

/** A run in the tenant's runs page (GET .../runs/). */
export interface RunListItem extends Run {
  workflow_name: string;
}
export type RunCompare = Schemas["RunCompare"];
export type CompareNode = Schemas["CompareNode"];
export type NodeLog = Schemas["NodeLog"];
export type NodeNotebookDiff = Schemas["NodeNotebookDiff"];

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
  /** What the user must know about how the node ran (e.g. its kernel had no sandbox). */
  warnings: string[];
  /** A fanned-out node's items by status; null for a node without items (see endpoints.nodeItems). */
  items?: Partial<Record<RunStatus, number>> | null;
  /** The workflow version this node ran on (a repair may move it to a newer one). */
  version?: number | null;
  /** Not executed: its outputs came from this node run of another run (a partial run's reuse, or the cache). */
  reused_from?: RunSource | null;
  cached_from?: RunSource | null;
}

export interface RunSource {
  run: number;
  node_run: number;
}

/** What a run would do with a node (POST .../runs/plan/). */
export interface PlannedNode {
  node: string;
  action: "run" | "reused" | "cached" | "skipped";
  source: RunSource | null;
}

/** A partial run's selection; {} runs every node. */
export interface RunSelection {
  only?: string[];
  from?: string;
  to?: string;
}

/** One item of a fanned-out node (GET .../runs/{id}/nodes/{node}/items/). */
export interface NodeItem extends Omit<NodeRun, "node" | "items"> {
  map_index: number;
  /** The item's value, as the node's map parameter received it. */
  item: Json;
  duration_s: number | null;
}

/** A numeric output across a node's items, counted into equal-width bins (…/items/histogram/). */
export interface ItemsHistogram {
  output: string;
  count: number;
  missing: number;
  min: number | null;
  max: number | null;
  bins: { start: number; end: number; count: number }[];
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface RunDetail extends Run {
  parameters: Record<string, Json>;
  error: string | null;
  cache?: boolean;
  nodes: NodeRun[];
}

export type Deployment = Schemas["Deployment"];
export type Backfill = Schemas["Backfill"];
export type BackfillDetail = Schemas["BackfillDetail"];
export type BackfillDryRun = Schemas["DryRun"];
export type BackfillRequest = Omit<Schemas["BackfillRequestRequest"], "dry_run">;
