// Pieces most pages share: headings, topic names, pagination, status tags.

import { getJson } from '../api/client';
import type { OrganisationList, Status, Topic, TopicList, Hold } from '../api/types';
import { h, tag, type Child } from '../dom';
import type { PageContext } from '../router';

let topicsCache: Promise<Topic[]> | null = null;
export function topics(): Promise<Topic[]> {
  topicsCache ??= getJson<TopicList>('/topics').then((t) => t.items);
  topicsCache.catch(() => (topicsCache = null));
  return topicsCache;
}

export async function topicNames(): Promise<Map<string, string>> {
  return new Map((await topics()).map((t) => [t.id, t.name]));
}

export async function organisations(): Promise<OrganisationList['items']> {
  return (await getJson<OrganisationList>('/organisations')).items;
}

/** Sets the document title and renders the page's single h1. */
export function heading(ctx: PageContext, text: string, caption?: string): HTMLElement {
  document.title = `${text} - Qnet`;
  const h1 = h('h1', { tabindex: '-1' }, caption ? h('span', { class: 'nhsuk-caption-l' }, caption, h('span', { class: 'nhsuk-u-visually-hidden' }, ' - ')) : null, text);
  ctx.main.appendChild(h1);
  return h1;
}

export function statusTag(status: Status | null | undefined, hold?: Hold | null): HTMLElement {
  if (hold) return tag('Held', 'orange');
  switch (status) {
    case 'published':
      return tag('Published', 'green');
    case 'rejected':
      return tag('Rejected', 'red');
    default:
      return tag('Pending review', 'blue');
  }
}

export function topicTags(ids: string[], names: Map<string, string>): HTMLElement | null {
  if (!ids.length) return null;
  return h(
    'ul',
    { class: 'nhsuk-list nhsuk-u-margin-bottom-2', 'aria-label': 'Topics' },
    ids.map((id) => h('li', { class: 'nhsuk-u-display-inline-block nhsuk-u-margin-right-2' }, tag(names.get(id) ?? id, 'white'))),
  );
}

/** "Next page" and "First page" links for a cursor-paged list. */
export function pagination(ctx: PageContext, nextCursor: string | null | undefined): HTMLElement | null {
  const hasCursor = ctx.query.has('cursor');
  if (!nextCursor && !hasCursor) return null;
  const items: Child[] = [];
  if (hasCursor) {
    const q = new URLSearchParams(ctx.query);
    q.delete('cursor');
    const qs = q.toString();
    items.push(
      h(
        'li',
        { class: 'nhsuk-pagination-item--previous' },
        h('a', { class: 'nhsuk-pagination__link nhsuk-pagination__link--prev', href: `${ctx.path}${qs ? `?${qs}` : ''}`, rel: 'prev' }, h('span', { class: 'nhsuk-pagination__title' }, 'First page')),
      ),
    );
  }
  if (nextCursor) {
    const q = new URLSearchParams(ctx.query);
    q.set('cursor', nextCursor);
    items.push(
      h(
        'li',
        { class: 'nhsuk-pagination-item--next' },
        h('a', { class: 'nhsuk-pagination__link nhsuk-pagination__link--next', href: `${ctx.path}?${q}`, rel: 'next' }, h('span', { class: 'nhsuk-pagination__title' }, 'Next page')),
      ),
    );
  }
  return h('nav', { class: 'nhsuk-pagination', 'aria-label': 'Pagination' }, h('ul', { class: 'nhsuk-list nhsuk-pagination__list' }, items));
}

export function card(o: { href: string; title: string; description?: Child; meta?: Child; headingLevel?: 'h2' | 'h3' }): HTMLElement {
  const hl = o.headingLevel ?? 'h2';
  return h(
    'li',
    null,
    h(
      'div',
      { class: 'nhsuk-card nhsuk-card--clickable' },
      h(
        'div',
        { class: 'nhsuk-card__content' },
        h(hl, { class: 'nhsuk-card__heading nhsuk-heading-m' }, h('a', { class: 'nhsuk-card__link', href: o.href }, o.title)),
        o.description ? h('p', { class: 'nhsuk-card__description' }, o.description) : null,
        o.meta ?? null,
      ),
    ),
  );
}

export function cardList(cards: HTMLElement[], empty: string): HTMLElement {
  if (!cards.length) return h('p', null, empty);
  return h('ul', { class: 'nhsuk-list' }, cards);
}

export function insetText(...children: Child[]): HTMLElement {
  return h('div', { class: 'nhsuk-inset-text' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '), children);
}

export function backLink(href: string, text = 'Back'): HTMLElement {
  return h('div', { class: 'nhsuk-back-link' }, h('a', { class: 'nhsuk-back-link__link', href }, text));
}

/** A confirmation panel shown after something is done. */
export function panel(title: string, ...body: Child[]): HTMLElement {
  return h('div', { class: 'nhsuk-panel nhsuk-panel--confirmation' }, h('h2', { class: 'nhsuk-panel__title' }, title), h('div', { class: 'nhsuk-panel__body' }, body));
}

/** A filter form (GET) that submits to the same page. */
export function filterForm(ctx: PageContext, fields: HTMLElement[], submit = 'Apply filters'): HTMLFormElement {
  const form = h('form', { method: 'get', action: ctx.path, class: 'nhsuk-u-margin-bottom-5' }, fields, h('button', { class: 'nhsuk-button nhsuk-button--secondary', type: 'submit' }, submit));
  return form;
}
