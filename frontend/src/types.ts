// The editor's React Flow node and edge types. One node type today; a typed union so that
// a new kind (a note, a group) is a new member here and an entry in nodeTypes.
import type { Edge, Node } from "@xyflow/react";
import type { NotebookNodeData } from "./graph/model";

export type NotebookFlowNode = Node<NotebookNodeData, "notebook">;
export type LoomNode = NotebookFlowNode;
export type LoomEdge = Edge;
