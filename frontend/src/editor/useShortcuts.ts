import { useEffect } from "react";
import { useStore } from "../store";
import { useFitAll } from "./useFitAll";

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
}

export const SHORTCUTS: [string, string][] = [
  ["Ctrl/⌘ S", "Save"],
  ["Ctrl/⌘ Enter", "Run (asks to save first)"],
  ["Ctrl/⌘ Z", "Undo"],
  ["Ctrl/⌘ Shift Z, Ctrl Y", "Redo"],
  ["Ctrl/⌘ C / V", "Copy / paste nodes"],
  ["Ctrl/⌘ A", "Select all"],
  ["Delete, Backspace", "Delete selection"],
  ["F", "Fit at a readable zoom"],
  ["Shift F", "Show the whole graph"],
  ["L", "Automatic layout"],
  ["Shift + drag", "Box select"],
  ["Escape", "Deselect"],
];

/** The editor's keyboard shortcuts; canvas ones stay quiet while the user types in a field. */
export function useShortcuts(opts: { readOnly: boolean; onRun: () => void }) {
  const fitAll = useFitAll();
  const { readOnly, onRun } = opts;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const s = useStore.getState();
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === "s") {
        e.preventDefault();
        if (!readOnly) void s.save();
        return;
      }
      if (mod && key === "enter") {
        e.preventDefault();
        if (!readOnly) onRun();
        return;
      }
      if (typing(e.target) || document.querySelector(".modal-backdrop")) return;
      if (mod && key === "z" && !e.shiftKey) {
        e.preventDefault();
        if (!readOnly) s.undo();
      } else if (mod && ((key === "z" && e.shiftKey) || key === "y")) {
        e.preventDefault();
        if (!readOnly) s.redo();
      } else if (mod && key === "c") {
        s.copy();
      } else if (mod && key === "v") {
        if (!readOnly) s.paste();
      } else if (mod && key === "a") {
        e.preventDefault();
        useStore.setState({ nodes: s.nodes.map((n) => (n.selected ? n : { ...n, selected: true })) });
      } else if ((e.key === "Delete" || e.key === "Backspace") && !mod) {
        if (!readOnly) {
          e.preventDefault();
          s.deleteSelected();
        }
      } else if (!mod && !e.altKey && key === "f") {
        fitAll(true, e.shiftKey);
      } else if (!mod && !e.altKey && key === "l") {
        if (!readOnly) {
          s.autoLayout();
          requestAnimationFrame(() => fitAll());
        }
      } else if (e.key === "Escape") {
        s.selectOnly(null);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [fitAll, readOnly, onRun]);
}
