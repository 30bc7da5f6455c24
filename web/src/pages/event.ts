import { apiUrl, getJson } from '../api/client';
import type { EventView } from '../api/types';
import { h, link, paragraphs, summaryList } from '../dom';
import type { PageContext } from '../router';
import { heading, insetText, topicNames, topicTags } from '../ui/common';
import { EVENT_KINDS } from './events';

export default async function event(ctx: PageContext): Promise<void> {
  const id = ctx.params['id']!;
  const [e, names] = await Promise.all([getJson<EventView>(`/events/${encodeURIComponent(id)}`), topicNames()]);
  heading(ctx, e.title, new Map(EVENT_KINDS).get(e.kind) ?? e.kind);
  if (e.status === 'cancelled') ctx.main.append(insetText(h('p', null, 'This event is cancelled.')));
  ctx.main.append(
    summaryList([
      ['When', `${e.starts_local} to ${e.ends_local} (London time)`],
      ['Where', e.location ?? (e.online_url ? 'Online' : 'To be confirmed')],
      ['Hosted by', e.host_organisation.name ?? 'Not known'],
      ['Places', e.places.left > 0 ? `${e.places.left} of ${e.places.capacity} left` : 'Full: you can join the waiting list'],
      ['Booking closes', e.booking_closes_local],
      ['Topics', topicTags(e.topics, names) ?? 'None'],
    ]),
    h('section', null, h('h2', null, 'About this event'), paragraphs(e.description)),
    e.what_you_will_see ? h('section', null, h('h2', null, 'What you will see'), paragraphs(e.what_you_will_see)) : '',
    h('p', null, h('a', { class: 'nhsuk-link', href: apiUrl(`/events/${encodeURIComponent(e.id)}/calendar.ics`), 'data-external': '' }, 'Add to your calendar')),
    h('p', { class: 'nhsuk-body-s' }, 'Booking a place on the website is coming soon.'),
    h('p', null, link('/events', 'All events')),
  );
}
