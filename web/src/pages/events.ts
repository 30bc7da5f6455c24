import { getJson } from '../api/client';
import type { EventList } from '../api/types';
import { hasRole } from '../auth';
import { h, link } from '../dom';
import type { PageContext } from '../router';
import { card, cardList, filterForm, heading, organisations, pagination, topicNames, topicTags, topics } from '../ui/common';
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
  const organisation = ctx.query.get('organisation') ?? '';
  const [list, allTopics, names, orgs] = await Promise.all([
    getJson<EventList>('/events', { topic, kind, organisation, cursor: ctx.query.get('cursor'), limit: 20 }),
    topics(),
    topicNames(),
    organisations(),
  ]);
  const kinds = new Map(EVENT_KINDS);
  const orgNames = new Map(orgs.map((o) => [o.id, o.name]));
  heading(ctx, 'Events');
  ctx.main.append(
    h('p', null, 'Training, workshops, meetings and go-and-see visits coming up across the system. Times are London time.'),
    hasRole('organiser') || hasRole('moderator')
      ? h('p', null, link('/events/new', 'Create an event', 'nhsuk-button nhsuk-button--secondary'))
      : '',
    filterForm(ctx, [
      select({ field: 'kind', label: 'Type', value: kind, options: [['', 'All types'], ...EVENT_KINDS] }),
      select({ field: 'topic', label: 'Topic', value: topic, options: [['', 'All topics'], ...allTopics.map((t): [string, string] => [t.id, t.name])] }),
      select({ field: 'organisation', label: 'Hosted by', value: organisation, options: [['', 'All organisations'], ...orgs.map((o): [string, string] => [o.id, o.name])] }),
    ]),
    cardList(
      list.items.map((e) =>
        card({
          href: `/events/${encodeURIComponent(e.id)}`,
          title: e.title,
          description: `${e.starts_local}${e.location ? `, ${e.location}` : e.online ? ', online' : ''}`,
          meta: [
            h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-1' }, [kinds.get(e.kind) ?? e.kind, orgNames.get(e.host_organisation_id) ? `, hosted by ${orgNames.get(e.host_organisation_id)}` : ''].join('')),
            topicTags(e.topics, names),
          ],
        }),
      ),
      kind || topic || organisation ? 'No events match these filters.' : 'No events are coming up.',
    ),
    pagination(ctx, list.next_cursor) ?? '',
  );
}
