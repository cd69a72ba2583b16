// Text typed in a form ⇄ the JSON value a parameter of a given type takes.
import type { Json, ParamType } from "../api/types";

export type Parsed = { ok: true; value: Json } | { ok: false; reason: string };

export function valueParse(text: string, type: ParamType | null): Parsed {
  const t = text.trim();
  switch (type) {
    case "str":
      return { ok: true, value: text };
    case "int":
      return /^[-+]?\d+$/.test(t) ? { ok: true, value: Number(t) } : { ok: false, reason: "Enter a whole number." };
    case "float":
      return t !== "" && Number.isFinite(Number(t)) ? { ok: true, value: Number(t) } : { ok: false, reason: "Enter a number." };
    case "bool":
      if (t === "true" || t === "false") return { ok: true, value: t === "true" };
      return { ok: false, reason: "Choose true or false." };
    case "list":
    case "dict": {
      let v: unknown;
      try {
        v = JSON.parse(t);
      } catch {
        return { ok: false, reason: `Enter JSON, e.g. ${type === "list" ? '["a", "b"]' : '{"key": 1}'}.` };
      }
      const isList = Array.isArray(v);
      const isDict = v !== null && typeof v === "object" && !isList;
      if (type === "list" ? !isList : !isDict) return { ok: false, reason: `Enter a JSON ${type === "list" ? "list [...]" : "object {...}"}.` };
      return { ok: true, value: v as Json };
    }
    default:
      try {
        return { ok: true, value: JSON.parse(t) as Json };
      } catch {
        return { ok: true, value: text };
      }
  }
}

export function valueFormat(v: Json | undefined, type: ParamType | null = null): string {
  if (v === undefined || v === null) return "";
  if (type === "str" && typeof v === "string") return v;
  if (typeof v === "string" && type === null) return v;
  return JSON.stringify(v);
}

/** A short, readable rendering for badges and summaries. */
export function valueShort(v: Json | undefined, max = 40): string {
  const s = v === undefined ? "" : typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function typeOf(v: Json): ParamType | null {
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (Array.isArray(v)) return "list";
  if (v && typeof v === "object") return "dict";
  return null;
}
