// Undo and redo over whole snapshots: simple, and cheap enough because snapshots share
// every node object that an edit did not touch.
export interface History<T> {
  past: T[];
  future: T[];
}

export const LIMIT = 100;

export function historyPush<T>(h: History<T>, snapshot: T): History<T> {
  return { past: [...h.past, snapshot].slice(-LIMIT), future: [] };
}

export function historyUndo<T>(h: History<T>, present: T): { history: History<T>; state: T } | null {
  if (!h.past.length) return null;
  return { history: { past: h.past.slice(0, -1), future: [present, ...h.future] }, state: h.past[h.past.length - 1] };
}

export function historyRedo<T>(h: History<T>, present: T): { history: History<T>; state: T } | null {
  if (!h.future.length) return null;
  return { history: { past: [...h.past, present], future: h.future.slice(1) }, state: h.future[0] };
}
