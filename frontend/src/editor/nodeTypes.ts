import type { NodeTypes } from "@xyflow/react";
import { NotebookNode } from "./NotebookNode";

// At module scope: a new object on each render would make React Flow remount every node.
export const nodeTypes: NodeTypes = { notebook: NotebookNode };
