// A deterministic layered layout for the service map: callers first, callees
// after them (layer = longest call path from a node without callers, cycles
// broken), and within a layer nodes ordered to keep edges short (median of
// neighbours, a few sweeps). Layers run left to right, or top to bottom when
// there are too many of them for the width. Same input, same picture.

export interface LayoutNode {
  id: string;
  col: number;
  row: number;
  x: number;
  y: number;
}

export interface LayoutResult {
  nodes: Map<string, LayoutNode>;
  width: number;
  height: number;
  /** Layers are rows (top to bottom) rather than columns. */
  vertical: boolean;
}

export interface LayoutSize {
  nodeW: number;
  nodeH: number;
  /** Gap between layers. */
  layerGap: number;
  /** Gap between nodes of one layer. */
  nodeGap: number;
  pad: number;
}

export function layeredLayout(
  ids: string[],
  edges: Array<{ from: string; to: string }>,
  size: LayoutSize,
  opts: { maxWidth: number; vertical: LayoutSize },
): LayoutResult {
  const sorted = [...ids].sort();
  const out = new Map<string, string[]>();
  const inc = new Map<string, string[]>();
  for (const id of sorted) {
    out.set(id, []);
    inc.set(id, []);
  }
  for (const e of edges) {
    if (e.from === e.to || !out.has(e.from) || !out.has(e.to)) continue;
    out.get(e.from)!.push(e.to);
    inc.get(e.to)!.push(e.from);
  }

  // Break cycles: DFS from sources (then from whatever is left) marks back edges.
  const state = new Map<string, 0 | 1 | 2>();
  const back = new Set<string>();
  const visit = (n: string) => {
    state.set(n, 1);
    for (const m of [...out.get(n)!].sort()) {
      const s = state.get(m) ?? 0;
      if (s === 1) back.add(`${n}\0${m}`);
      else if (s === 0) visit(m);
    }
    state.set(n, 2);
  };
  for (const id of sorted) if (inc.get(id)!.length === 0 && !state.get(id)) visit(id);
  for (const id of sorted) if (!state.get(id)) visit(id);

  // Column: longest path from a source over the forward edges.
  const col = new Map<string, number>();
  const colOf = (n: string, depth = 0): number => {
    const known = col.get(n);
    if (known !== undefined) return known;
    if (depth > ids.length) return 0;
    let c = 0;
    for (const p of inc.get(n)!) if (!back.has(`${p}\0${n}`)) c = Math.max(c, colOf(p, depth + 1) + 1);
    col.set(n, c);
    return c;
  };
  for (const id of sorted) colOf(id);

  const columns: string[][] = [];
  for (const id of sorted) (columns[col.get(id)!] ??= []).push(id);
  for (let c = 0; c < columns.length; c++) columns[c] ??= [];

  // Order within columns: a few down/up sweeps placing each node at the median
  // position of its neighbours in the previous column.
  const pos = new Map<string, number>();
  const reindex = () => columns.forEach((nodes) => nodes.forEach((n, i) => pos.set(n, i)));
  reindex();
  const median = (xs: number[]) => {
    if (xs.length === 0) return -1;
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? columns.map((_, i) => i).slice(1) : columns.map((_, i) => i).slice(0, -1).reverse();
    for (const c of order) {
      const nodes = columns[c]!;
      const key = new Map<string, number>();
      for (const n of nodes) {
        const neighbours = down ? inc.get(n)! : out.get(n)!;
        const m = median(neighbours.filter((x) => col.get(x) === (down ? c - 1 : c + 1)).map((x) => pos.get(x)!));
        key.set(n, m < 0 ? pos.get(n)! : m);
      }
      nodes.sort((a, b) => key.get(a)! - key.get(b)! || a.localeCompare(b));
      nodes.forEach((n, i) => pos.set(n, i));
    }
  }

  // Left to right while it fits the width, else top to bottom.
  const horizontalWidth = size.pad * 2 + columns.length * size.nodeW + Math.max(0, columns.length - 1) * size.layerGap;
  const vertical = horizontalWidth > opts.maxWidth && columns.length > 2;
  const z = vertical ? opts.vertical : size;
  const widest = Math.max(1, ...columns.map((c) => c.length));
  // Along the layers (x when horizontal) and across them.
  const along = z.pad * 2 + columns.length * (vertical ? z.nodeH : z.nodeW) + Math.max(0, columns.length - 1) * z.layerGap;
  const across = z.pad * 2 + widest * (vertical ? z.nodeW : z.nodeH) + (widest - 1) * z.nodeGap;
  const nodes = new Map<string, LayoutNode>();
  columns.forEach((list, c) => {
    // Centre each layer across.
    const span = list.length * (vertical ? z.nodeW : z.nodeH) + (list.length - 1) * z.nodeGap;
    const start = (across - span) / 2;
    list.forEach((id, r) => {
      const a = z.pad + c * ((vertical ? z.nodeH : z.nodeW) + z.layerGap);
      const b = start + r * ((vertical ? z.nodeW : z.nodeH) + z.nodeGap);
      nodes.set(id, { id, col: c, row: r, x: vertical ? b : a, y: vertical ? a : b });
    });
  });
  return { nodes, width: vertical ? across : along, height: vertical ? along : across, vertical };
}
