// Every REST call the editor makes, in one place.
import { api, request } from "./client";
import type {
  AuditEntry, ConnectionTest, PlatformTenant, TenantOpen, TenantPlatformUpdate, TenantUsage, ApiToken,
  ApiTokenCreate, ApiTokenCreated, Connection, ConnectionKind, ConnectionRequest, Engine, Graph, GraphError,
  Invitation, InvitationJoined, InvitationPreview, Json, Member, NodeItem, Notebook, NotebookDetail, NotebookDiff,
  Page, Role, Run, RunDetail, Tenant, Backfill, BackfillDetail, BackfillDryRun, BackfillRequest, Deployment, Channel,
  ChannelRequest, DeliveryPage, Delivery, TenantDetail, TenantUpdate, User, WorkflowDetail, WorkflowListItem,
  WorkflowVersion, PlannedNode, RunSelection, RunCompare, RunListItem, NodeLog, ItemsHistogram,
} from "./types";

const T = (tenant: string) => `/api/tenants/${encodeURIComponent(tenant)}`;

export interface CursorPage<T> {
  next: string | null;
  previous: string | null;
  results: T[];
}

/** POST .../runs/: the run's engine, parameters and version, a partial run's selection and reuse, and the cache. */
export interface RunStartBody extends RunSelection {
  engine: string;
  parameters: Record<string, Json>;
  version?: number;
  reuse?: number | "latest";
  cache?: boolean;
}

export interface Me {
  authenticated: boolean;
  user: User | null;
}

export const endpoints = {
  me: () => api.get<Me>("/api/auth/me/"),
  login: (username: string, password: string) => api.post<Me>("/api/auth/session/", { username, password }),
  logout: () => api.del("/api/auth/session/"),

  tokens: () => api.get<ApiToken[]>("/api/auth/tokens/"),
  tokenCreate: (body: ApiTokenCreate) => api.post<ApiTokenCreated>("/api/auth/tokens/", body),
  tokenRevoke: (id: number) => api.del(`/api/auth/tokens/${id}/`),

  text: (url: string, accept: string) => request<string>("GET", url, undefined, accept),

  tenants: () => api.get<Tenant[]>("/api/tenants/"),
  tenant: (t: string) => api.get<TenantDetail>(`${T(t)}/`),
  tenantUpdate: (t: string, body: TenantUpdate) => request<TenantDetail>("PATCH", `${T(t)}/`, body),

  members: (t: string) => api.get<Member[]>(`${T(t)}/members/`),
  memberAdd: (t: string, username: string, role: Role) => api.post<Member>(`${T(t)}/members/`, { username, role }),
  memberRole: (t: string, id: number, role: Role) => request<Member>("PATCH", `${T(t)}/members/${id}/`, { role }),
  memberRemove: (t: string, id: number) => api.del(`${T(t)}/members/${id}/`),
  invitations: (t: string) => api.get<Invitation[]>(`${T(t)}/invitations/`),
  invite: (t: string, email: string, role: Role) => api.post<Invitation>(`${T(t)}/invitations/`, { email, role }),
  invitationRevoke: (t: string, id: number) => api.del(`${T(t)}/invitations/${id}/`),
  invitationPreview: (token: string) => api.post<InvitationPreview>("/api/invitations/preview/", { token }),
  invitationAccept: (token: string) => api.post<Tenant>("/api/invitations/accept/", { token }),
  // The username is the invitation's email: the server names the account.
  invitationSignup: (token: string, password: string) =>
    api.post<InvitationJoined>("/api/invitations/signup/", { token, password }),

  connectionKinds: () => api.get<ConnectionKind[]>("/api/connection-kinds/"),
  connections: (t: string) => api.get<Connection[]>(`${T(t)}/connections/`),
  connectionCreate: (t: string, body: ConnectionRequest) => api.post<Connection>(`${T(t)}/connections/`, body),
  connectionSave: (t: string, id: number, body: ConnectionRequest) => api.put<Connection>(`${T(t)}/connections/${id}/`, body),
  connectionDelete: (t: string, id: number) => api.del(`${T(t)}/connections/${id}/`),
  connectionTest: (t: string, id: number) => api.get<ConnectionTest>(`${T(t)}/connections/${id}/test/`),
  connectionTestStart: (t: string, id: number) => api.post<ConnectionTest>(`${T(t)}/connections/${id}/test/`),

  /** A page of the tenant's audit log (newest first), or with no tenant every tenant's (platform
   *  admins; `filters.tenant` narrows it); `cursor` is a `next` link as the server gave it. */
  audit: (t: string | null, filters: Record<string, string>, cursor?: string) =>
    api.get<CursorPage<AuditEntry>>(cursor ?? `${t === null ? "/api" : T(t)}/audit/?${new URLSearchParams(Object.entries(filters).filter(([, v]) => v))}`),

  platformTenants: () => api.get<PlatformTenant[]>("/api/platform/tenants/"),
  platformTenantOpen: (body: TenantOpen) => api.post<PlatformTenant>("/api/platform/tenants/", body),
  platformTenantUpdate: (slug: string, body: TenantPlatformUpdate) =>
    request<PlatformTenant>("PATCH", `/api/platform/tenants/${encodeURIComponent(slug)}/`, body),
  platformUsage: (days = 30) => api.get<TenantUsage[]>(`/api/platform/usage/?days=${days}`),

  engines: () => api.get<Engine[]>("/api/engines/"),

  channels: (t: string) => api.get<Channel[]>(`${T(t)}/channels/`),
  channelCreate: (t: string, body: ChannelRequest) => api.post<Channel>(`${T(t)}/channels/`, body),
  channelSave: (t: string, id: number, body: Partial<ChannelRequest>) => request<Channel>("PATCH", `${T(t)}/channels/${id}/`, body),
  channelDelete: (t: string, id: number) => api.del(`${T(t)}/channels/${id}/`),
  channelTest: (t: string, id: number) => api.post<Delivery>(`${T(t)}/channels/${id}/test/`),
  deliveries: (t: string, query: { channel?: string; event?: string; status?: string; workflow?: number; limit?: number } = {}) =>
    api.get<DeliveryPage>(`${T(t)}/deliveries/?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`),

  notebooks: (t: string) => api.get<Notebook[]>(`${T(t)}/notebooks/`),
  notebookUpload: (t: string, file: File) => {
    const form = new FormData();
    form.append("file", file);
    return api.post<Notebook>(`${T(t)}/notebooks/`, form);
  },
  notebook: (t: string, id: number, version?: number) => api.get<NotebookDetail>(`${T(t)}/notebooks/${id}/${version ? `?version=${version}` : ""}`),
  notebookPreviewUrl: (t: string, id: number, version?: number) => `${T(t)}/notebooks/${id}/preview/${version ? `?version=${version}` : ""}`,
  notebookDiff: (t: string, id: number, from: number, to: number) => api.get<NotebookDiff>(`${T(t)}/notebooks/${id}/diff/?from=${from}&to=${to}`),
  notebookDelete: (t: string, id: number) => api.del(`${T(t)}/notebooks/${id}/`),

  workflows: (t: string) => api.get<WorkflowListItem[]>(`${T(t)}/workflows/`),
  workflow: (t: string, id: number, version?: number) => api.get<WorkflowDetail>(`${T(t)}/workflows/${id}/${version ? `?version=${version}` : ""}`),
  workflowVersions: (t: string, id: number) => api.get<WorkflowVersion[]>(`${T(t)}/workflows/${id}/versions/`),
  workflowCreate: (t: string, graph: Partial<Graph> & { name: string }) => api.post<WorkflowDetail>(`${T(t)}/workflows/`, graph),
  workflowSave: (t: string, id: number, graph: Graph, baseVersion: number) =>
    api.put<WorkflowDetail>(`${T(t)}/workflows/${id}/`, { ...graph, base_version: baseVersion }),
  workflowDelete: (t: string, id: number) => api.del(`${T(t)}/workflows/${id}/`),
  workflowValidate: (t: string, id: number, graph: Graph) =>
    api.post<{ valid: boolean; errors: GraphError[] }>(`${T(t)}/workflows/${id}/validate/`, { graph }),
  dagUrl: (t: string, id: number, version?: number) => `${T(t)}/workflows/${id}/dag/${version ? `?version=${version}` : ""}`,
  // The DAG view answers text/x-python; asking for JSON would get 406.
  dag: (t: string, id: number, version?: number) => request<string>("GET", endpoints.dagUrl(t, id, version), undefined, "text/x-python, text/plain, */*"),

  /** The workflow's deployment; null when it is not deployed. */
  deployment: (t: string, workflow: number) => api.get<Deployment | null>(`${T(t)}/workflows/${workflow}/deployment/`),
  deploy: (t: string, workflow: number, body: { version?: number; engine?: "local" | "airflow" }) =>
    api.post<Deployment>(`${T(t)}/workflows/${workflow}/deployment/`, body),
  deploymentPause: (t: string, workflow: number, paused: boolean) =>
    request<Deployment>("PATCH", `${T(t)}/workflows/${workflow}/deployment/`, { paused }),
  undeploy: (t: string, workflow: number) => api.del(`${T(t)}/workflows/${workflow}/deployment/`),
  backfills: (t: string, workflow: number) => api.get<Backfill[]>(`${T(t)}/workflows/${workflow}/backfills/`),
  backfillPreview: (t: string, workflow: number, body: BackfillRequest) =>
    api.post<BackfillDryRun>(`${T(t)}/workflows/${workflow}/backfills/`, { ...body, dry_run: true }),
  backfillStart: (t: string, workflow: number, body: BackfillRequest) =>
    api.post<BackfillDetail>(`${T(t)}/workflows/${workflow}/backfills/`, { ...body, dry_run: false }),
  backfill: (t: string, workflow: number, id: number) => api.get<BackfillDetail>(`${T(t)}/workflows/${workflow}/backfills/${id}/`),
  backfillCancel: (t: string, workflow: number, id: number) =>
    api.post<BackfillDetail>(`${T(t)}/workflows/${workflow}/backfills/${id}/cancel/`),
  runs: (t: string, workflow: number) => api.get<Run[]>(`${T(t)}/workflows/${workflow}/runs/`),
  runStart: (t: string, workflow: number, body: RunStartBody) => api.post<RunDetail>(`${T(t)}/workflows/${workflow}/runs/`, body),
  runPlan: (t: string, workflow: number, body: RunStartBody) => api.post<PlannedNode[]>(`${T(t)}/workflows/${workflow}/runs/plan/`, body),
  run: (t: string, id: number) => api.get<RunDetail>(`${T(t)}/runs/${id}/`),
  runCancel: (t: string, id: number) => api.post<RunDetail>(`${T(t)}/runs/${id}/cancel/`),
  runRepair: (t: string, id: number, body: { version?: number | "latest"; parameters?: Record<string, Json> } = {}) =>
    api.post<RunDetail>(`${T(t)}/runs/${id}/repair/`, body),
  nodeItems: (t: string, run: number, node: string, query: { status?: string; item?: string; sort?: string; limit?: number; offset?: number } = {}) =>
    api.get<Page<NodeItem>>(`${T(t)}/runs/${run}/nodes/${encodeURIComponent(node)}/items/?${new URLSearchParams(
      Object.entries(query).filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => [k, String(v)]))}`),
  tenantRuns: (t: string, query: { workflow?: string; status?: string; trigger?: string; since?: string; until?: string; limit?: number; offset?: number } = {}) =>
    api.get<Page<RunListItem>>(`${T(t)}/runs/?${new URLSearchParams(
      Object.entries(query).filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => [k, String(v)]))}`),
  runCompare: (t: string, run: number, other: number) => api.get<RunCompare>(`${T(t)}/runs/${run}/compare/?with=${other}`),
  nodeNotebookDiffHtmlUrl: (t: string, run: number, other: number, node: string, mapIndex: number | null = null) =>
    `${T(t)}/runs/${run}/nodes/${encodeURIComponent(node)}/notebook/diff/?with=${other}&format=html${mapIndex === null ? "" : `&map_index=${mapIndex}`}`,
  nodeLog: (t: string, run: number, node: string, offset: number, mapIndex: number | null = null) =>
    api.get<NodeLog>(`${T(t)}/runs/${run}/nodes/${encodeURIComponent(node)}/log/?offset=${offset}${mapIndex === null ? "" : `&map_index=${mapIndex}`}`),
  itemsHistogram: (t: string, run: number, node: string, output: string, bins = 20) =>
    api.get<ItemsHistogram>(`${T(t)}/runs/${run}/nodes/${encodeURIComponent(node)}/items/histogram/?${new URLSearchParams({ output, bins: String(bins) })}`),
  retryFailedItems: (t: string, run: number, node: string) =>
    api.post<RunDetail>(`${T(t)}/runs/${run}/nodes/${encodeURIComponent(node)}/retry-failed/`),
  notebookHtmlUrl: (t: string, run: number, node: string, mapIndex: number | null) =>
    `${T(t)}/runs/${run}/nodes/${encodeURIComponent(node)}/notebook/?format=html${mapIndex === null ? "" : `&map_index=${mapIndex}`}`,
  notebookIpynbUrl: (t: string, run: number, node: string, mapIndex: number | null) =>
    `${T(t)}/runs/${run}/nodes/${encodeURIComponent(node)}/notebook/${mapIndex === null ? "" : `?map_index=${mapIndex}`}`,
};
