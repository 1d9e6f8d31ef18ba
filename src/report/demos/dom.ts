/** A tiny DOM builder for the in-browser demos (no framework: each demo is one small bundle). */
export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | number> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** A labelled field: <div><label for=id>text</label>{control}</div>. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLDivElement {
  const id = control.id;
  const hintEl = hint ? h('small', { id: `${id}-hint`, class: 'muted' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', {}, h('label', { for: id }, label), control, hintEl);
}

/** Finds the demo's mount point and clears its "loading" text; null when the page has none. */
export function mount(id: string): HTMLElement | null {
  const root = document.querySelector<HTMLElement>(`[data-demo-root="${id}"]`);
  if (root) root.textContent = '';
  return root;
}

/** Runs `start` once the DOM is ready. */
export function onReady(start: () => void): void {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
  else start();
}
