// fetch with the session cookie and Django's CSRF header, and errors a person can read.

export class ApiError extends Error {
  constructor(
    public status: number,
    public body: unknown,
    message: string,
  ) {
    super(message);
  }
}

function csrfToken(): string {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

/** The most useful sentence in a DRF error body: `detail`, or the first field error. */
export function errorMessage(body: unknown, status: number): string {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    if (typeof b.detail === "string") return b.detail;
    for (const [field, v] of Object.entries(b)) {
      const first = Array.isArray(v) ? v[0] : v;
      // An upload has one field, and its messages already say "the file"/"the notebook".
      if (typeof first === "string") return ["non_field_errors", "file"].includes(field) ? first : `${field}: ${first}`;
    }
  }
  if (typeof body === "string" && body && !body.trimStart().startsWith("<")) return body.slice(0, 300);
  if (status === 404) return "Not found (404).";
  if (status >= 500) return `The server failed (${status}). Try again, or check the server log.`;
  return `Request failed (${status}).`;
}

export async function request<T>(method: string, url: string, body?: unknown, accept = "application/json"): Promise<T> {
  const headers: Record<string, string> = { Accept: accept };
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, null, "The server cannot be reached. Is it running?");
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get("Content-Type") ?? "";
  const data = type.includes("json") ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) throw new ApiError(res.status, data, errorMessage(data, res.status));
  return data as T;
}

export const api = {
  get: <T>(url: string) => request<T>("GET", url),
  post: <T>(url: string, body?: unknown) => request<T>("POST", url, body ?? {}),
  put: <T>(url: string, body: unknown) => request<T>("PUT", url, body),
  del: (url: string) => request<void>("DELETE", url),
};
