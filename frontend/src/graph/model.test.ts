// The editor's defaults for a new node agree with the API's, which the OpenAPI schema (generated
// from the backend's NODE_DEFAULTS, checked fresh by scripts/api_types.sh --check) states.
import { describe, expect, it } from "vitest";
import schema from "../api/openapi.json";
import { NODE_DEFAULTS } from "./model";

describe("NODE_DEFAULTS", () => {
  it("are the schema's node defaults", () => {
    const properties: Record<string, { default?: unknown }> = schema.components.schemas.Node.properties as Record<string, object>;
    const fromSchema = Object.fromEntries(
      Object.entries(properties).flatMap(([name, p]) => ("default" in p ? [[name, p.default]] : [])),
    );
    // The editor places new nodes itself and asks for a notebook; the rest must match.
    const { notebook, ...editor } = NODE_DEFAULTS;
    const { position, ...api } = fromSchema;
    expect(notebook).toBe("");
    expect(position).toEqual({ x: 0, y: 0 });
    expect(editor).toEqual(api);
  });
});
