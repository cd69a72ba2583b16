// Node ids are Python identifiers (the server's rule), unique in the workflow.
const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function isIdentifier(s: string): boolean {
  return IDENT.test(s);
}

/** "Train model.ipynb" → "train_model"; a taken id gets _2, _3, ... */
export function nodeIdFor(name: string, taken: Set<string>): string {
  let base = name.replace(/\.ipynb$/i, "").toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/^_+|_+$/g, "");
  if (!base) base = "node";
  if (/^[0-9]/.test(base)) base = `n_${base}`;
  base = base.slice(0, 58);
  if (!taken.has(base)) return base;
  const stem = base.replace(/_\d+$/, "");
  for (let i = 2; ; i++) {
    const id = `${stem}_${i}`;
    if (!taken.has(id)) return id;
  }
}
