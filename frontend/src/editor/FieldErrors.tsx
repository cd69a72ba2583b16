import type { GraphError } from "../api/types";

export function FieldErrors({ errors, field }: { errors: GraphError[] | undefined; field: string | ((f: string) => boolean) }) {
  const match = typeof field === "string" ? (f: string) => f === field : field;
  const mine = errors?.filter((e) => match(e.field)) ?? [];
  if (!mine.length) return null;
  return (
    <>
      {mine.map((e, i) => (
        <div key={i} className="field-error" role="alert" data-field={e.field}>{e.message}</div>
      ))}
    </>
  );
}
