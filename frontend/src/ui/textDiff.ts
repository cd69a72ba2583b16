// A line diff (longest common subsequence), enough for two versions of a notebook's cells.
export interface DiffLine {
  kind: "same" | "added" | "removed";
  text: string;
}

export function lineDiff(a: string[], b: string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: the longest common subsequence of a[i:] and b[j:]
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ kind: "same", text: a[i++] });
      j++;
    } else if (j < m && (i >= n || lcs[i][j + 1] >= lcs[i + 1][j])) out.push({ kind: "added", text: b[j++] });
    else out.push({ kind: "removed", text: a[i++] });
  }
  return out;
}

interface Cell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: string[] };
}

/** A notebook's cells as lines: a header line per cell (its kind and tags), then its source. */
export function notebookLines(content: { cells?: Cell[] } | null | undefined): string[] {
  const lines: string[] = [];
  (content?.cells ?? []).forEach((c, i) => {
    const tags = c.metadata?.tags?.length ? ` [${c.metadata.tags.join(", ")}]` : "";
    lines.push(`── cell ${i + 1}: ${c.cell_type}${tags}`);
    lines.push(...(Array.isArray(c.source) ? c.source.join("") : c.source).split("\n"));
  });
  return lines;
}
