// A process as one event shows it: the image's shared view copied, plus its
// parent and ancestors. The copy remembers (weakly) which view it came from, so
// the JSON writer can reuse that view's JSON for the copy's own fields instead
// of serializing them again for every event.
import type { ProcessDetail, ProcessView } from './types.js';

const bases = new WeakMap<ProcessDetail, ProcessView>();

export function processDetail(view: ProcessView, parent?: ProcessView, ancestors?: readonly ProcessView[]): ProcessDetail {
  const d: ProcessDetail = { ...view };
  if (parent) d.parent = parent;
  if (ancestors && ancestors.length > 0) d.ancestors = ancestors;
  bases.set(d, view);
  return d;
}

/** The shared view a detail was made from (undefined for a detail built otherwise). */
export const baseViewOf = (d: ProcessDetail): ProcessView | undefined => bases.get(d);
