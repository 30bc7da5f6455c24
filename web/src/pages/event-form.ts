// Create or edit an event (organisers and moderators). Dates and times are
// typed in London time and sent to the API as instants.

import { getJson, send } from '../api/client';
import type { EventView, MemberView } from '../api/types';
import { hasRole } from '../auth';
import { h } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading, organisations, topics } from '../ui/common';
import { fieldId, showFieldErrors, showProblem } from '../ui/errors';
import { busy, button, checkboxes, initCounts, radios, select, textarea, textInput, values } from '../ui/forms';
import { fromLondon, hhmm, readDate, readTime, toLondon } from '../ui/london';
import { EVENT_KINDS } from './events';

const LABELS: Record<string, string> = {
  kind: 'Type of event',
  title: 'Title',
  description: 'Description',
  starts_at: 'Start time',
  ends_at: 'End time',
  location: 'Where',
  online_url: 'Online joining link',
  capacity: 'Number of places',
  host_organisation_id: 'Hosted by',
  topics: 'Topics',
  what_you_will_see: 'What visitors will see',
  host: 'Who hosts',
};

function dateInput(field: string, legend: string, hint: string, value?: { day: number; month: number; year: number }): HTMLElement {
  const id = fieldId(field);
  const part = (name: 'day' | 'month' | 'year', label: string, width: number) =>
    h(
      'div',
      { class: 'nhsuk-date-input__item' },
      h(
        'div',
        { class: 'nhsuk-form-group' },
        h('label', { class: 'nhsuk-label nhsuk-date-input__label', for: fieldId(`${field}-${name}`) }, label),
        h('input', {
          class: `nhsuk-input nhsuk-date-input__input nhsuk-input--width-${width}`,
          id: fieldId(`${field}-${name}`),
          name: `${field}-${name}`,
          type: 'text',
          inputmode: 'numeric',
          value: value ? String(value[name]) : '',
        }),
      ),
    );
  return h(
    'div',
    { class: 'nhsuk-form-group' },
    h(
      'fieldset',
      { class: 'nhsuk-fieldset', role: 'group', 'aria-describedby': `${id}-hint` },
      h('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--s' }, legend),
      h('div', { class: 'nhsuk-hint', id: `${id}-hint` }, hint),
      h('div', { class: 'nhsuk-date-input', id }, part('day', 'Day', 2), part('month', 'Month', 2), part('year', 'Year', 4)),
    ),
  );
}

export default async function eventForm(ctx: PageContext): Promise<void> {
  if (!hasRole('organiser') && !hasRole('moderator')) return (await import('./forbidden')).default(ctx);
  const id = ctx.params['id'];
  const [existing, me, orgs, allTopics] = await Promise.all([
    id ? getJson<EventView>(`/events/${encodeURIComponent(id)}`) : Promise.resolve(null),
    getJson<MemberView>('/me'),
    organisations(),
    topics(),
  ]);
  const start = existing ? toLondon(new Date(existing.starts_at)) : null;
  const end = existing ? toLondon(new Date(existing.ends_at)) : null;
  if (existing) ctx.main.append(backLink(`/events/${encodeURIComponent(existing.id)}`, 'Back to the event'));
  heading(ctx, existing ? 'Edit the event' : 'Create an event');
  const kind = existing?.kind ?? '';
  const visitFields = h(
    'div',
    { hidden: kind !== 'go_and_see' },
    textarea({ field: 'what_you_will_see', label: 'What visitors will see', hint: 'For example, the morning safety huddle and the board it uses.', value: existing?.what_you_will_see, rows: 4, maxlength: 2000 }),
    textInput({ field: 'host', label: 'Who hosts', hint: 'The person or team visitors will meet, for example "Ward 7 sister".', value: existing?.host }),
  );
  const form = h(
    'form',
    { method: 'post', novalidate: true },
    existing
      ? ''
      : radios({ field: 'kind', legend: 'Type of event', items: EVENT_KINDS.map(([value, label]) => ({ value, label })), value: kind }),
    textInput({ field: 'title', label: 'Title', value: existing?.title }),
    textarea({ field: 'description', label: 'Description', hint: 'What it is about, who it is for and what to bring.', value: existing?.description, rows: 6, maxlength: 10000 }),
    visitFields,
    dateInput('date', 'Date', 'London time. For example, 15 3 2027', start ?? undefined),
    textInput({ field: 'starts_at', label: 'Start time', hint: '24-hour clock, for example 09:30', value: start ? hhmm(start) : '', width: '5' }),
    textInput({ field: 'ends_at', label: 'End time', hint: '24-hour clock, for example 12:00', value: end ? hhmm(end) : '', width: '5' }),
    textInput({ field: 'location', label: 'Where', hint: 'The address, or leave empty for an online event.', value: existing?.location }),
    textInput({ field: 'online_url', label: 'Online joining link (optional)', hint: 'Starts with https://. Only people with a confirmed place see it.', value: existing?.online_url, type: 'url' }),
    textInput({ field: 'capacity', label: 'Number of places', value: existing ? String(existing.capacity) : '', width: '4', inputmode: 'numeric' }),
    select({
      field: 'host_organisation_id',
      label: 'Hosted by',
      value: existing?.host_organisation.id ?? me.organisation_id ?? '',
      options: [['', 'Choose an organisation'], ...orgs.map((o): [string, string] => [o.id, o.name])],
    }),
    checkboxes({ field: 'topics', legend: 'Topics', items: allTopics.map((t) => ({ value: t.id, label: t.name })), checked: existing?.topics, small: true }),
    button(existing ? 'Save changes' : 'Create event'),
  );
  form.addEventListener('change', (ev) => {
    const t = ev.target as HTMLInputElement;
    if (t.name === 'kind') visitFields.hidden = t.value !== 'go_and_see';
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = values(form);
    const errors: { field: string; message: string }[] = [];
    const chosenKind = existing?.kind ?? v.text('kind');
    if (!chosenKind) errors.push({ field: 'kind', message: 'Choose the type of event' });
    const day = readDate(v.text('date-day'), v.text('date-month'), v.text('date-year'));
    if (!day) errors.push({ field: 'date-day', message: 'Enter a real date, for example 15 3 2027' });
    const from = readTime(v.text('starts_at'));
    const to = readTime(v.text('ends_at'));
    if (!from) errors.push({ field: 'starts_at', message: 'Enter the start time, for example 09:30' });
    if (!to) errors.push({ field: 'ends_at', message: 'Enter the end time, for example 12:00' });
    if (from && to && to.hour * 60 + to.minute <= from.hour * 60 + from.minute) errors.push({ field: 'ends_at', message: 'The end time must be after the start time' });
    const capacity = Number(v.text('capacity'));
    if (!/^\d+$/.test(v.text('capacity')) || capacity < 1) errors.push({ field: 'capacity', message: 'Enter the number of places, for example 20' });
    if (errors.length) {
      showFieldErrors(ctx, errors);
      return;
    }
    const startsAt = fromLondon({ ...day!, ...from! }).toISOString().replace(/\.000Z$/, 'Z');
    const endsAt = fromLondon({ ...day!, ...to! }).toISOString().replace(/\.000Z$/, 'Z');
    const optional = (name: string) => v.text(name) || null;
    const visit = chosenKind === 'go_and_see';
    const body: Record<string, unknown> = {
      title: v.text('title'),
      description: v.text('description'),
      starts_at: startsAt,
      ends_at: endsAt,
      location: optional('location'),
      online_url: optional('online_url'),
      capacity,
      host_organisation_id: v.text('host_organisation_id'),
      topics: v.all('topics'),
      ...(visit ? { what_you_will_see: optional('what_you_will_see'), host: optional('host') } : {}),
    };
    void busy(form, async () => {
      try {
        if (existing) {
          // Only what changed, so an unchanged time sends nobody an update.
          const before: Record<string, unknown> = {
            title: existing.title,
            description: existing.description,
            starts_at: existing.starts_at,
            ends_at: existing.ends_at,
            location: existing.location ?? null,
            online_url: existing.online_url ?? null,
            capacity: existing.capacity,
            host_organisation_id: existing.host_organisation.id,
            topics: existing.topics,
            what_you_will_see: existing.what_you_will_see ?? null,
            host: existing.host ?? null,
          };
          const same = (k: string) =>
            k === 'starts_at' || k === 'ends_at' ? Date.parse(String(before[k])) === Date.parse(String(body[k])) : JSON.stringify(before[k]) === JSON.stringify(body[k]);
          const patch = Object.fromEntries(Object.entries(body).filter(([k]) => !same(k)));
          await send<EventView>('PATCH', `/events/${encodeURIComponent(existing.id)}`, { body: patch, ifMatch: existing.version });
          ctx.navigate(`/events/${encodeURIComponent(existing.id)}`);
        } else {
          const created = await send<EventView>('POST', '/events', { body: { kind: chosenKind, ...body }, create: true });
          ctx.navigate(`/events/${encodeURIComponent(created.id)}`);
        }
      } catch (err) {
        showProblem(ctx, err, LABELS);
      }
    });
  });
  ctx.main.append(form);
  initCounts(form);
}
