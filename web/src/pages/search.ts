import { getJson } from '../api/client';
import type { SearchResults } from '../api/types';
import { h, highlighted } from '../dom';
import type { PageContext } from '../router';
import { cardList, heading, pagination, topics } from '../ui/common';
import { select, textInput } from '../ui/forms';

const TYPES: [string, string][] = [
  ['', 'Everything'],
  ['case_study', 'Case studies'],
  ['resource', 'Resources'],
  ['event', 'Events'],
];
const TYPE_NAMES: Record<string, string> = { case_study: 'Case study', resource: 'Resource', event: 'Event' };
const PATHS: Record<string, string> = { case_study: '/case-studies/', resource: '/resources/', event: '/events/' };

export default async function search(ctx: PageContext): Promise<void> {
  const q = (ctx.query.get('q') ?? '').trim();
  const type = ctx.query.get('type') ?? '';
  const topic = ctx.query.get('topic') ?? '';
  const [allTopics, results] = await Promise.all([
    topics(),
    q ? getJson<SearchResults>('/search', { q, type, topic, cursor: ctx.query.get('cursor'), limit: 20 }) : Promise.resolve(null),
  ]);
  heading(ctx, q ? `Search results for "${q}"` : 'Search');
  const form = h(
    'form',
    { method: 'get', action: '/search', class: 'nhsuk-u-margin-bottom-5' },
    textInput({ field: 'q', label: 'Words to find', value: q, type: 'search', width: '30' }),
    select({ field: 'type', label: 'Type', value: type, options: TYPES }),
    select({ field: 'topic', label: 'Topic', value: topic, options: [['', 'All topics'], ...allTopics.map((t): [string, string] => [t.id, t.name])] }),
    h('button', { class: 'nhsuk-button nhsuk-button--secondary', type: 'submit' }, 'Find'),
  );
  // The fields carry API names (q, type, topic) for the GET form.
  for (const el of Array.from(form.querySelectorAll('input, select'))) el.setAttribute('name', el.id.replace(/^f-/, ''));
  ctx.main.append(form);
  if (!results) {
    ctx.main.append(h('p', null, 'Search published case studies, resources and events.'));
    return;
  }
  ctx.main.append(
    h('p', { role: 'status' }, results.items.length ? `Showing ${results.items.length} result${results.items.length === 1 ? '' : 's'}${results.next_cursor ? ' on this page' : ''}.` : 'No results found.'),
    cardList(
      results.items.map((item) =>
        h(
          'li',
          null,
          h(
            'div',
            { class: 'nhsuk-card' },
            h(
              'div',
              { class: 'nhsuk-card__content' },
              h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-1' }, TYPE_NAMES[item.type] ?? item.type),
              h('h2', { class: 'nhsuk-card__heading nhsuk-heading-m' }, h('a', { class: 'nhsuk-link', href: `${PATHS[item.type] ?? '/'}${encodeURIComponent(item.id)}` }, item.title)),
              item.highlights.map((hl) => h('p', { class: 'nhsuk-card__description qnet-highlight' }, highlighted(hl))),
            ),
          ),
        ),
      ),
      'Try different words, or remove the filters.',
    ),
    pagination(ctx, results.next_cursor) ?? '',
  );
}
