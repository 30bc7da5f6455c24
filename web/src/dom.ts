// Building DOM without innerHTML: every piece of text becomes a text node.

export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (typeof v === 'function') {
        el.addEventListener(k.replace(/^on/, '').toLowerCase(), v);
      } else if (v === true) {
        el.setAttribute(k, '');
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else if (c instanceof Node) parent.appendChild(c);
    else parent.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** Text with the API's `<mark>`…`</mark>` highlights: only those exact tags
 *  become elements, everything else stays text. */
export function highlighted(text: string): Node[] {
  const out: Node[] = [];
  const parts = text.split(/(<mark>|<\/mark>)/);
  let inMark = false;
  for (const p of parts) {
    if (p === '<mark>') inMark = true;
    else if (p === '</mark>') inMark = false;
    else if (p) out.push(inMark ? h('mark', null, p) : document.createTextNode(p));
  }
  return out;
}

/** London date (and time) for an RFC 3339 instant. */
export function date(iso: string | null | undefined, withTime = false): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-GB', {
    timeZone: 'Europe/London',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    ...(withTime ? { hour: '2-digit', minute: '2-digit' } : {}),
  });
}

export function tag(text: string, colour?: string): HTMLElement {
  return h('strong', { class: `nhsuk-tag${colour ? ` nhsuk-tag--${colour}` : ''}` }, text);
}

export function summaryList(rows: [string, Child][]): HTMLElement {
  return h(
    'dl',
    { class: 'nhsuk-summary-list' },
    rows.map(([k, v]) =>
      h('div', { class: 'nhsuk-summary-list__row' }, h('dt', { class: 'nhsuk-summary-list__key' }, k), h('dd', { class: 'nhsuk-summary-list__value' }, v)),
    ),
  );
}

export function link(href: string, text: Child, cls = 'nhsuk-link'): HTMLAnchorElement {
  return h('a', { href, class: cls }, text);
}

/** Paragraphs from plain text (blank lines separate them; single breaks kept). */
export function paragraphs(text: string): HTMLElement[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => h('p', { class: 'qnet-prewrap' }, p));
}
