import { getJson } from '../api/client';
import type { EventList } from '../api/types';
import { date, h } from '../dom';
import type { PageContext } from '../router';
import { card, cardList, filterForm, heading, pagination, topicNames, topicTags, topics } from '../ui/common';
import { select } from '../ui/forms';

export const EVENT_KINDS: [string, string][] = [
  ['training', 'Training'],
  ['workshop', 'Workshop'],
  ['focus_group', 'Focus group'],
  ['meeting', 'Meeting'],
  ['go_and_see', 'Go and see visit'],
];

export default async function events(ctx: PageContext): Promise<void> {
  const topic = ctx.query.get('topic') ?? '';
  const kind = ctx.query.get('kind') ?? '';
  const [list, allTopics, names] = await Promise.all([getJson<EventList>('/events', { topic, kind, cursor: ctx.query.get('cursor'), limit: 20 }), topics(), topicNames()]);
  const kinds = new Map(EVENT_KINDS);
  heading(ctx, 'Events');
  ctx.main.append(
    h('p', null, 'Training, workshops, meetings and go-and-see visits coming up across the system.'),
    filterForm(ctx, [
      select({ field: 'kind', label: 'Type', value: kind, options: [['', 'All types'], ...EVENT_KINDS] }),
      select({ field: 'topic', label: 'Topic', value: topic, options: [['', 'All topics'], ...allTopics.map((t): [string, string] => [t.id, t.name])] }),
    ]),
    cardList(
      list.items.map((e) =>
        card({
          href: `/events/${encodeURIComponent(e.id)}`,
          title: e.title,
          description: `${date(e.starts_at, true)}${e.location ? `, ${e.location}` : e.online ? ', online' : ''}`,
          meta: [h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-1' }, kinds.get(e.kind) ?? e.kind), topicTags(e.topics, names)],
        }),
      ),
      'No events are coming up.',
    ),
    pagination(ctx, list.next_cursor) ?? '',
  );
}
