import { apiUrl, getBlob, getJson, remove, send } from '../api/client';
import type { BookingList, BookingView, EventView, MemberView, MyBooking, MyBookingList } from '../api/types';
import { currentSession, hasRole } from '../auth';
import { h, link, paragraphs, summaryList, tag } from '../dom';
import type { PageContext } from '../router';
import { heading, insetText, topicNames, topicTags } from '../ui/common';
import { showProblem } from '../ui/errors';
import { busy, button, buttonGroup } from '../ui/forms';
import { EVENT_KINDS } from './events';

/** What the last action on this page did, shown once after it reloads. */
let flash: { event: string; text: string } | null = null;

/** The register opens this long before the start (as the API's attendance rule). */
const REGISTER_OPENS_MS = 60 * 60 * 1000;

function done(ctx: PageContext, eventId: string, text: string): void {
  flash = { event: eventId, text };
  ctx.reload();
}

async function myBooking(eventId: string): Promise<MyBooking | null> {
  let cursor: string | null | undefined = null;
  for (let i = 0; i < 10; i++) {
    const page: MyBookingList = await getJson<MyBookingList>('/me/bookings', { limit: 100, cursor });
    const found = page.items.find((b) => b.booking.event_id === eventId);
    if (found) return found;
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return null;
}

async function allBookings(eventId: string): Promise<BookingView[]> {
  const out: BookingView[] = [];
  let cursor: string | null | undefined = null;
  for (let i = 0; i < 100; i++) {
    const page: BookingList = await getJson<BookingList>(`/events/${encodeURIComponent(eventId)}/bookings`, { limit: 100, cursor });
    out.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return out;
}

export function bookingTag(b: BookingView): HTMLElement {
  if (b.attended === true) return tag('Attended', 'green');
  switch (b.status) {
    case 'confirmed':
      return tag('Confirmed', 'green');
    case 'waitlisted':
      return tag(b.waitlist_position ? `Waiting list: number ${b.waitlist_position}` : 'Waiting list', 'yellow');
    case 'requested':
      return tag('Requested', 'blue');
    default:
      return tag('Declined', 'grey');
  }
}

function bookingState(e: EventView, b: BookingView): string {
  if (b.attended === true) return 'You attended this event.';
  switch (b.status) {
    case 'confirmed':
      return 'You have a place at this event. We have emailed you a calendar invitation.';
    case 'waitlisted':
      return `This event is full. You are on the waiting list: number ${b.waitlist_position ?? 1}. We will email you if a place comes up.`;
    case 'requested':
      return `You have asked to visit. ${e.host ?? 'The host'} will accept or decline your request, and we will email you.`;
    default:
      return 'The host could not take your visit request.';
  }
}

export default async function event(ctx: PageContext): Promise<void> {
  const id = ctx.params['id']!;
  const signedIn = !!currentSession();
  const [e, names, me, mine] = await Promise.all([
    getJson<EventView>(`/events/${encodeURIComponent(id)}`),
    topicNames(),
    signedIn ? getJson<MemberView>('/me') : Promise.resolve(null),
    signedIn ? myBooking(id) : Promise.resolve(null),
  ]);
  const goAndSee = e.kind === 'go_and_see';
  const manager = !!me && (hasRole('moderator') || e.created_by === me.id);
  const open = e.status === 'scheduled' && Date.parse(e.booking_closes_at) > Date.now() && Date.parse(e.starts_at) > Date.now();
  heading(ctx, e.title, new Map(EVENT_KINDS).get(e.kind) ?? e.kind);
  if (flash && flash.event === id) {
    ctx.alerts.replaceChildren(h('div', { class: 'nhsuk-inset-text', role: 'status' }, h('p', null, flash.text)));
    flash = null;
  }
  if (e.status === 'cancelled') ctx.main.append(insetText(h('p', null, 'This event is cancelled.')));

  const rows: [string, Parameters<typeof summaryList>[0][number][1]][] = [
    ['When', `${e.starts_local} to ${e.ends_local} (London time)`],
    ['Where', e.location ?? (e.online ? 'Online' : 'To be confirmed')],
    ['Hosted by', e.host_organisation.name ?? 'Not known'],
  ];
  if (goAndSee) rows.push(['Your host', e.host ?? 'Not known']);
  rows.push(
    ['Places', e.places.left > 0 ? `${e.places.left} of ${e.places.capacity} left` : 'None left: you can join the waiting list'],
    ['Booking closes', e.booking_closes_local],
    ['Topics', topicTags(e.topics, names) ?? 'None'],
  );
  ctx.main.append(
    summaryList(rows),
    h('section', null, h('h2', null, goAndSee ? 'About this visit' : 'About this event'), paragraphs(e.description)),
    goAndSee && e.what_you_will_see ? h('section', null, h('h2', null, 'What you will see'), paragraphs(e.what_you_will_see)) : '',
  );

  // The member's booking.
  const yours = h('section', null, h('h2', null, goAndSee ? 'Your visit' : 'Your booking'));
  ctx.main.append(yours);
  if (!signedIn) {
    yours.append(h('p', null, link(`/sign-in?return=${encodeURIComponent(ctx.path)}`, goAndSee ? 'Sign in to ask to visit' : 'Sign in to book a place')));
  } else if (mine) {
    const b = mine.booking;
    yours.append(insetText(h('p', null, bookingState(e, b))));
    if (b.status === 'confirmed' && e.online_url) {
      yours.append(h('p', null, 'Join online: ', h('a', { class: 'nhsuk-link', href: e.online_url, rel: 'noopener noreferrer', target: '_blank', 'data-external': '' }, e.online_url)));
    }
    if (b.status !== 'declined' && e.status === 'scheduled' && Date.parse(e.starts_at) > Date.now()) {
      const form = h('form', { method: 'post', novalidate: true }, button(b.status === 'requested' ? 'Withdraw my request' : 'Cancel my booking', { variant: 'secondary' }));
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        void busy(form, async () => {
          try {
            await remove(`/events/${encodeURIComponent(id)}/bookings/me`);
            done(ctx, id, b.status === 'requested' ? 'Your request to visit is withdrawn.' : 'Your booking is cancelled.');
          } catch (err) {
            showProblem(ctx, err);
          }
        });
      });
      yours.append(form);
    }
  } else if (open) {
    const label = goAndSee ? 'Ask to visit' : e.places.left > 0 ? 'Book a place' : 'Join the waiting list';
    const form = h('form', { method: 'post', novalidate: true }, button(label));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void busy(form, async () => {
        try {
          const b = await send<BookingView>('POST', `/events/${encodeURIComponent(id)}/bookings`);
          const text =
            b.status === 'confirmed'
              ? 'You have a place. We have emailed you a calendar invitation.'
              : b.status === 'waitlisted'
                ? `This event is full, so you are on the waiting list: number ${b.waitlist_position ?? 1}.`
                : 'Your request to visit has been sent to the host.';
          done(ctx, id, text);
        } catch (err) {
          showProblem(ctx, err);
        }
      });
    });
    yours.append(form);
  } else {
    yours.append(h('p', null, e.status === 'cancelled' ? 'You cannot book this event.' : 'Booking for this event has closed.'));
  }
  if (e.online_url && manager) ctx.main.append(h('p', null, 'Online join link: ', h('a', { class: 'nhsuk-link', href: e.online_url, rel: 'noopener noreferrer', target: '_blank', 'data-external': '' }, e.online_url)));
  ctx.main.append(
    h('p', null, h('a', { class: 'nhsuk-link', href: apiUrl(`/events/${encodeURIComponent(e.id)}/calendar.ics`), download: 'event.ics', 'data-external': '' }, 'Add to calendar')),
  );
  if (signedIn) ctx.main.append(h('p', null, link('/my/bookings', 'My bookings')));

  if (manager) await manage(ctx, e);
  ctx.main.append(h('p', null, link('/events', 'All events')));
}

/** The organiser's part: edit, cancel, visit requests, the register and the export. */
async function manage(ctx: PageContext, e: EventView): Promise<void> {
  const id = e.id;
  const path = `/events/${encodeURIComponent(id)}`;
  const section = h('section', { 'aria-labelledby': 'manage-heading' }, h('h2', { id: 'manage-heading' }, 'Manage this event'));
  ctx.main.append(section);
  if (e.status === 'scheduled') {
    const confirm = h('div', { class: 'nhsuk-warning-callout', hidden: true });
    const cancelButton = button('Cancel this event', { type: 'button', variant: 'warning', onclick: () => {
      confirm.hidden = false;
      confirm.querySelector('button')?.focus();
    } });
    confirm.append(
      h('h3', { class: 'nhsuk-warning-callout__label' }, h('span', { role: 'text' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Important: '), 'Cancel this event?')),
      h('p', null, 'Everyone booked will be emailed that it is cancelled. This cannot be undone.'),
      buttonGroup(
        button('Yes, cancel the event', {
          type: 'button',
          variant: 'warning',
          onclick: async () => {
            try {
              await send<EventView>('POST', `${path}/cancel`);
              done(ctx, id, 'The event is cancelled. Everyone booked has been emailed.');
            } catch (err) {
              showProblem(ctx, err);
            }
          },
        }),
        button('No, keep it', { type: 'button', variant: 'secondary', onclick: () => {
          confirm.hidden = true;
          cancelButton.focus();
        } }),
      ),
    );
    section.append(buttonGroup(link(`${path}/edit`, 'Edit this event', 'nhsuk-button nhsuk-button--secondary'), cancelButton), confirm);
  }

  const bookings = await allBookings(id);
  const requests = bookings.filter((b) => b.status === 'requested');
  if (e.kind === 'go_and_see') {
    section.append(h('h3', null, 'Visit requests'));
    if (!requests.length) section.append(h('p', null, 'No requests are waiting for an answer.'));
    for (const r of requests) {
      const who = r.name ?? 'A member';
      const answer = (accept: boolean) => async () => {
        try {
          await send<BookingView>('POST', `${path}/bookings/${encodeURIComponent(r.id)}/${accept ? 'accept' : 'decline'}`);
          done(ctx, id, accept ? `You accepted ${who}'s request. We have emailed them.` : `You declined ${who}'s request. We have let them know.`);
        } catch (err) {
          showProblem(ctx, err);
        }
      };
      section.append(
        h(
          'div',
          { class: 'nhsuk-card' },
          h(
            'div',
            { class: 'nhsuk-card__content' },
            h('h4', { class: 'nhsuk-card__heading nhsuk-heading-s' }, who),
            h('p', { class: 'nhsuk-body-s' }, r.email ?? ''),
            buttonGroup(
              h('button', { class: 'nhsuk-button nhsuk-button--small', type: 'button', onclick: answer(true) }, 'Accept', h('span', { class: 'nhsuk-u-visually-hidden' }, ` ${who}`)),
              h('button', { class: 'nhsuk-button nhsuk-button--small nhsuk-button--secondary', type: 'button', onclick: answer(false) }, 'Decline', h('span', { class: 'nhsuk-u-visually-hidden' }, ` ${who}`)),
            ),
          ),
        ),
      );
    }
  }

  section.append(h('h3', null, 'Attendees'));
  const listed = bookings.filter((b) => b.status !== 'requested');
  if (!listed.length) {
    section.append(h('p', null, 'Nobody has booked yet.'));
    return;
  }
  const registerOpen = e.status === 'scheduled' && Date.now() >= Date.parse(e.starts_at) - REGISTER_OPENS_MS;
  if (!registerOpen && e.status === 'scheduled') section.append(h('p', { class: 'nhsuk-body-s' }, 'You can mark who attended from an hour before the start.'));
  const table = h(
    'table',
    { class: 'nhsuk-table' },
    h('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, 'Attendees'),
    h('thead', { class: 'nhsuk-table__head' }, h('tr', null, ['Name', 'Email', 'Status', 'Attended'].map((t) => h('th', { scope: 'col', class: 'nhsuk-table__header' }, t)))),
    h(
      'tbody',
      { class: 'nhsuk-table__body' },
      listed.map((b, i) => {
        const who = b.name ?? 'A member';
        const cell =
          registerOpen && b.status === 'confirmed'
            ? h(
                'div',
                { class: 'nhsuk-checkboxes nhsuk-checkboxes--small' },
                h(
                  'div',
                  { class: 'nhsuk-checkboxes__item' },
                  h('input', { class: 'nhsuk-checkboxes__input', id: `attended-${i}`, name: 'attended', type: 'checkbox', value: b.id, checked: b.attended === true, 'data-was': b.attended === true ? 'yes' : 'no' }),
                  h('label', { class: 'nhsuk-label nhsuk-checkboxes__label', for: `attended-${i}` }, h('span', { class: 'nhsuk-u-visually-hidden' }, `${who} attended`)),
                ),
              )
            : b.attended === true
              ? 'Yes'
              : b.attended === false
                ? 'No'
                : '';
        return h(
          'tr',
          { class: 'nhsuk-table__row' },
          h('td', { class: 'nhsuk-table__cell qnet-break' }, who),
          h('td', { class: 'nhsuk-table__cell qnet-break' }, b.email ?? ''),
          h('td', { class: 'nhsuk-table__cell' }, bookingTag(b)),
          h('td', { class: 'nhsuk-table__cell' }, cell),
        );
      }),
    ),
  );
  const form = h('form', { method: 'post', novalidate: true }, h('div', { class: 'qnet-table-scroll' }, table));
  if (registerOpen) {
    form.append(button('Save attendance'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void busy(form, async () => {
        try {
          const boxes = Array.from(form.querySelectorAll<HTMLInputElement>('input[name="attended"]'));
          for (const box of boxes) {
            const was = box.dataset['was'] === 'yes';
            if (box.checked !== was) {
              await send<BookingView>('PUT', `${path}/bookings/${encodeURIComponent(box.value)}/attendance`, { body: { attended: box.checked } });
            }
          }
          done(ctx, id, 'Attendance saved.');
        } catch (err) {
          showProblem(ctx, err);
        }
      });
    });
  }
  section.append(form);
  const exportButton = button('Export attendees (CSV)', {
    type: 'button',
    variant: 'secondary',
    onclick: async () => {
      try {
        const blob = await getBlob(`${path}/bookings.csv`, 'text/csv');
        const a = h('a', { href: URL.createObjectURL(blob), download: `attendees-${id}.csv`, hidden: true });
        document.body.append(a);
        a.click();
        setTimeout(() => {
          URL.revokeObjectURL(a.href);
          a.remove();
        }, 1000);
      } catch (err) {
        showProblem(ctx, err);
      }
    },
  });
  section.append(exportButton);
}
