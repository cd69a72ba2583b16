// Errors of the API, split the way forms show them: under the field they name, or on top.
import { ApiError } from "../api/client";

export const errorText = (e: unknown) => (e instanceof ApiError ? e.message : String(e));

/** {field: first message} of a 400 naming fields (`extra.token` style keys kept); `form` for the rest. */
export function fieldErrors(e: unknown, fields: string[]): Record<string, string> {
  const body = e instanceof ApiError && e.body && typeof e.body === "object" ? (e.body as Record<string, unknown>) : {};
  const out: Record<string, string> = {};
  for (const f of fields) {
    const v = body[f];
    if (Array.isArray(v) && v.length) out[f] = v.map(String).join(" ");
    else if (typeof v === "string") out[f] = v;
  }
  if (!Object.keys(out).length) out.form = errorText(e);
  return out;
}
