// A table sortable by any column (click a header; again to reverse). Missing
// values sort last whichever the direction.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export interface Column<T> {
  key: string;
  label: ComponentChildren;
  /** The value sorted on. */
  value: (row: T) => number | string | null | undefined;
  render?: (row: T) => ComponentChildren;
  numeric?: boolean;
  title?: string;
  /** Sorting descending first (e.g. rates) rather than ascending (names). */
  descFirst?: boolean;
  width?: string;
}

export function SortTable<T>(props: {
  rows: T[];
  columns: Array<Column<T>>;
  rowKey: (row: T) => string;
  initial: { key: string; desc: boolean };
  onRowClick?: (row: T) => void;
  rowClass?: (row: T) => string;
  empty?: ComponentChildren;
  id?: string;
}) {
  const [sort, setSort] = useState(props.initial);
  const col = props.columns.find((c) => c.key === sort.key) ?? props.columns[0]!;
  const rows = [...props.rows].sort((a, b) => {
    const va = col.value(a);
    const vb = col.value(b);
    if (va === vb) return 0;
    if (va === null || va === undefined) return 1;
    if (vb === null || vb === undefined) return -1;
    const cmp = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
    return sort.desc ? -cmp : cmp;
  });
  return (
    <table class="data" id={props.id}>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th
              key={c.key}
              class={`${c.numeric ? 'num' : ''} ${c.key === sort.key ? 'sorted' : ''}`}
              style={c.width ? { width: c.width } : undefined}
              title={c.title}
              aria-sort={c.key === sort.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}
              onClick={() => setSort((s) => (s.key === c.key ? { key: c.key, desc: !s.desc } : { key: c.key, desc: c.descFirst ?? false }))}
            >
              {c.label}
              <span class="arrow">{c.key === sort.key ? (sort.desc ? '↓' : '↑') : ''}</span>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td class="empty" colSpan={props.columns.length}>
              {props.empty ?? 'Nothing yet.'}
            </td>
          </tr>
        ) : (
          rows.map((r) => (
            <tr key={props.rowKey(r)} class={`${props.onRowClick ? 'clickable' : ''} ${props.rowClass?.(r) ?? ''}`} onClick={props.onRowClick ? () => props.onRowClick!(r) : undefined}>
              {props.columns.map((c) => (
                <td key={c.key} class={c.numeric ? 'num' : ''}>
                  {c.render ? c.render(r) : (c.value(r) ?? '–')}
                </td>
              ))}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}
