import { getJson } from '../api/client';
import type { MyBookingList } from '../api/types';
import { h, link, tag } from '../dom';
import type { PageContext } from '../router';
import { heading, pagination } from '../ui/common';
import { bookingTag } from './event';
import { EVENT_KINDS } from './events';

export default async function myBookings(ctx: PageContext): Promise<void> {
  const list = await getJson<MyBookingList>('/me/bookings', { cursor: ctx.query.get('cursor'), limit: 50 });
  const kinds = new Map(EVENT_KINDS);
  heading(ctx, 'My bookings');
  ctx.main.append(h('p', null, 'Events and go-and-see visits you have booked or asked to join, soonest first. Times are London time.'));
  if (!list.items.length) {
    ctx.main.append(h('p', null, 'You have not booked anything yet. ', link('/events', 'Find an event'), '.'));
    return;
  }
  ctx.main.append(
    h(
      'div',
      { class: 'qnet-table-scroll' },
      h(
        'table',
        { class: 'nhsuk-table' },
        h('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, 'Your bookings'),
        h('thead', { class: 'nhsuk-table__head' }, h('tr', null, ['Event', 'When', 'Status'].map((t) => h('th', { scope: 'col', class: 'nhsuk-table__header' }, t)))),
        h(
          'tbody',
          { class: 'nhsuk-table__body' },
          list.items.map((b) =>
            h(
              'tr',
              { class: 'nhsuk-table__row' },
              h(
                'td',
                { class: 'nhsuk-table__cell qnet-break' },
                link(`/events/${encodeURIComponent(b.event.id)}`, b.event.title),
                h('span', { class: 'nhsuk-body-s nhsuk-u-display-block' }, kinds.get(b.event.kind) ?? b.event.kind),
              ),
              h('td', { class: 'nhsuk-table__cell' }, b.event.starts_local),
              h('td', { class: 'nhsuk-table__cell' }, b.event_status === 'cancelled' ? tag('Event cancelled', 'red') : bookingTag(b.booking)),
            ),
          ),
        ),
      ),
    ),
    pagination(ctx, list.next_cursor) ?? '',
  );
}
