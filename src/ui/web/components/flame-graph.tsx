// A flame graph (root at the top, "icicle" order) drawn as positioned divs:
// click a frame to zoom into it, click the root to zoom out; frames matching
// the search are outlined and their share is shown. In a diff, each frame is
// coloured by how its share changed between the baseline and the compared range.
import { useMemo, useState } from 'preact/hooks';

export interface FlameNode {
  name: string;
  value: number;
  base?: number;
  children: FlameNode[];
}

const ROW_PX = 18;
const MIN_WIDTH = 0.002; // of the visible width: narrower frames are not drawn

function hue(name: string): string {
  if (name.startsWith('JS:') || name.includes('.js:')) return 'hsl(50 80% 62%)';
  if (/^(entry_SYSCALL|do_syscall|__x64_sys|asm_|irq|__schedule|schedule)/.test(name) || name.startsWith('[kernel]')) return 'hsl(200 55% 65%)';
  if (name.includes('+0x')) return 'hsl(0 0% 72%)';
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return `hsl(${10 + (h % 35)} 75% ${58 + (h % 10)}%)`;
}

function diffColour(n: FlameNode, total: number, baseTotal: number): string {
  const now = total ? n.value / total : 0;
  const before = baseTotal ? (n.base ?? 0) / baseTotal : 0;
  const d = now - before;
  const s = Math.min(1, Math.abs(d) * 8);
  if (Math.abs(d) < 0.002) return 'hsl(0 0% 80%)';
  return d > 0 ? `hsl(0 70% ${88 - s * 30}%)` : `hsl(210 70% ${88 - s * 30}%)`;
}

interface Box {
  node: FlameNode;
  path: string;
  depth: number;
  x: number;
  w: number;
}

/** Frames laid out under `focus` (by path of names), as fractions of the width. */
function layout(root: FlameNode, focusPath: string[]): { boxes: Box[]; focus: FlameNode; depth: number } {
  let focus = root;
  const ancestors: FlameNode[] = [root];
  for (const name of focusPath) {
    const next = focus.children.find((c) => c.name === name);
    if (!next) break;
    focus = next;
    ancestors.push(next);
  }
  const boxes: Box[] = [];
  // Ancestors span the whole width above the focused frame.
  ancestors.forEach((a, i) => boxes.push({ node: a, path: focusPath.slice(0, i).join('\u0000'), depth: i, x: 0, w: 1 }));
  let maxDepth = ancestors.length;
  const walk = (n: FlameNode, path: string[], depth: number, x: number, w: number) => {
    let cx = x;
    for (const c of n.children) {
      const cw = n.value > 0 ? (w * c.value) / n.value : 0;
      const cp = [...path, c.name];
      if (cw >= MIN_WIDTH) {
        boxes.push({ node: c, path: cp.join('\u0000'), depth, x: cx, w: cw });
        maxDepth = Math.max(maxDepth, depth + 1);
        if (depth < 200) walk(c, cp, depth + 1, cx, cw);
      }
      cx += cw;
    }
  };
  walk(focus, focusPath.slice(0, ancestors.length - 1), ancestors.length, 0, 1);
  return { boxes, focus, depth: maxDepth };
}

export function FlameGraph(props: { root: FlameNode; total: number; baseTotal?: number; search: string; unit: (n: number) => string }) {
  const [focusPath, setFocusPath] = useState<string[]>([]);
  const [hover, setHover] = useState<Box | null>(null);
  const { boxes, depth } = useMemo(() => layout(props.root, focusPath), [props.root, focusPath]);
  const search = props.search.trim().toLowerCase();
  const matched = useMemo(() => {
    if (!search) return 0;
    // Samples under matching frames, counted once per stack (outermost match).
    let n = 0;
    const walk = (node: FlameNode) => {
      if (node.name.toLowerCase().includes(search)) n += node.value;
      else node.children.forEach(walk);
    };
    props.root.children.forEach(walk);
    return n;
  }, [props.root, search]);
  const diff = props.baseTotal !== undefined;
  const share = (n: FlameNode) => (props.total ? n.value / props.total : 0);
  return (
    <div>
      <div style={{ display: 'flex', gap: '16px', fontSize: '12px', color: 'var(--muted)', minHeight: '18px', marginBottom: '6px' }}>
        {focusPath.length > 0 && (
          <a href="javascript:void 0" onClick={() => setFocusPath([])}>
            reset zoom
          </a>
        )}
        {search && <span>match: {(props.total ? (100 * matched) / props.total : 0).toFixed(1)}% of samples</span>}
        {hover && (
          <span style={{ color: 'var(--text, inherit)', overflow: 'hidden', whiteSpace: 'nowrap', textOverflow: 'ellipsis' }}>
            <b>{hover.node.name}</b> — {props.unit(hover.node.value)} ({(100 * share(hover.node)).toFixed(2)}%)
            {diff && ` · baseline ${props.unit(hover.node.base ?? 0)} (${(props.baseTotal ? (100 * (hover.node.base ?? 0)) / props.baseTotal : 0).toFixed(2)}%)`}
          </span>
        )}
      </div>
      <div class="flame-graph" style={{ position: 'relative', height: `${(depth + 1) * ROW_PX}px`, width: '100%', fontSize: '11px', fontFamily: 'ui-monospace, monospace' }} onMouseLeave={() => setHover(null)}>
        {boxes.map((b) => {
          const isMatch = search !== '' && b.node.name.toLowerCase().includes(search);
          return (
            <div
              key={`${b.depth}:${b.path}`}
              title={b.node.name}
              data-frame={b.node.name}
              onMouseEnter={() => setHover(b)}
              onClick={() => setFocusPath(b.path ? b.path.split('\u0000') : [])}
              style={{
                position: 'absolute',
                left: `${b.x * 100}%`,
                width: `calc(${b.w * 100}% - 1px)`,
                top: `${b.depth * ROW_PX}px`,
                height: `${ROW_PX - 1}px`,
                background: diff ? diffColour(b.node, props.total, props.baseTotal!) : b.depth === 0 ? 'hsl(0 0% 75%)' : hue(b.node.name),
                opacity: search && !isMatch ? 0.45 : 1,
                outline: isMatch ? '2px solid var(--accent)' : 'none',
                overflow: 'hidden',
                whiteSpace: 'nowrap',
                textOverflow: 'ellipsis',
                padding: '1px 3px',
                boxSizing: 'border-box',
                cursor: 'pointer',
                color: '#111',
              }}
            >
              {b.node.name}
            </div>
          );
        })}
      </div>
    </div>
  );
}
