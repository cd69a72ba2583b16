// Every REST call the editor makes, in one place.
import { api, request } from "./client";
import type {
  ApiToken, ApiTokenCreate, ApiTokenCreated, Connection, ConnectionKind, ConnectionRequest, Engine, Graph, GraphError, Invitation,
  InvitationJoined, InvitationPreview, ItemsHistogram, Json, Member, NodeItem, Notebook, NotebookDetail, NotebookDiff, Page, Role, Run, RunDetail, Tenant,
  TenantDetail, TenantUpdate, User, WorkflowDetail, WorkflowListItem, WorkflowVersion,
} from "./types";

const T = (tenant: string) => `/api/tenants/${encodeURIComponent(tenant)}`;

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
  invitationSignup: (token: string, username: string, password: string) =>
    api.post<InvitationJoined>("/api/invitations/signup/", { token, username, password }),

  connectionKinds: () => api.get<ConnectionKind[]>("/api/connection-kinds/"),
  connections: (t: string) => api.get<Connection[]>(`${T(t)}/connections/`),
  connectionCreate: (t: string, body: ConnectionRequest) => api.post<Connection>(`${T(t)}/connections/`, body),
  connectionSave: (t: string, id: number, body: ConnectionRequest) => api.put<Connection>(`${T(t)}/connections/${id}/`, body),
  connectionDelete: (t: string, id: number) => api.del(`${T(t)}/connections/${id}/`),
  engines: () => api.get<Engine[]>("/api/engines/"),

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

  runs: (t: string, workflow: number) => api.get<Run[]>(`${T(t)}/workflows/${workflow}/runs/`),
  runStart: (t: string, workflow: number, body: { engine: string; parameters: Record<string, Json>; version?: number }) =>
    api.post<RunDetail>(`${T(t)}/workflows/${workflow}/runs/`, body),
  run: (t: string, id: number) => api.get<RunDetail>(`${T(t)}/runs/${id}/`),
  runCancel: (t: string, id: number) => api.post<RunDetail>(`${T(t)}/runs/${id}/cancel/`),
  runRepair: (t: string, id: number) => api.post<RunDetail>(`${T(t)}/runs/${id}/repair/`),
  nodeItems: (t: string, run: number, node: string, query: { status?: string; item?: string; sort?: string; limit?: number; offset?: number } = {}) =>
    api.get<Page<NodeItem>>(`${T(t)}/runs/${run}/nodes/${encodeURIComponent(node)}/items/?${new URLSearchParams(
      Object.entries(query).filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => [k, String(v)]))}`),
  itemsHistogram: (t: string, run: number, node: string, output: string, bins = 20) =>
    api.get<ItemsHistogram>(`${T(t)}/runs/${run}/nodes/${encodeURIComponent(node)}/items/histogram/?${new URLSearchParams({ output, bins: String(bins) })}`),
  retryFailedItems: (t: string, run: number, node: string) =>
    api.post<RunDetail>(`${T(t)}/runs/${run}/nodes/${encodeURIComponent(node)}/retry-failed/`),
  notebookHtmlUrl: (t: string, run: number, node: string, mapIndex: number | null) =>
    `${T(t)}/runs/${run}/nodes/${encodeURIComponent(node)}/notebook/?format=html${mapIndex === null ? "" : `&map_index=${mapIndex}`}`,
  notebookIpynbUrl: (t: string, run: number, node: string, mapIndex: number | null) =>
    `${T(t)}/runs/${run}/nodes/${encodeURIComponent(node)}/notebook/${mapIndex === null ? "" : `?map_index=${mapIndex}`}`,
};
