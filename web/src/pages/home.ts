import { getJson } from '../api/client';
import type { CaseStudyList, EventList } from '../api/types';
import { date, h, link } from '../dom';
import type { PageContext } from '../router';
import { card, cardList, heading, topicNames, topicTags } from '../ui/common';

export default async function home(ctx: PageContext): Promise<void> {
  const loading = Promise.all([
    getJson<CaseStudyList>('/case-studies', { limit: 5 }),
    getJson<CaseStudyList>('/case-studies/highlights', { limit: 3 }).catch(() => ({ items: [] }) as unknown as CaseStudyList),
    getJson<EventList>('/events', { limit: 5 }).catch(() => ({ items: [] }) as EventList),
    topicNames(),
  ]);
  // The heading, introduction and search box need no data: show them while the
  // lists load (the heading is the page's largest paint).
  heading(ctx, 'Qnet: learn from improvement work across the system');
  ctx.main.append(
    h('p', { class: 'nhsuk-lede-text' }, 'Case studies, resources, events and mentoring for NHS, council and voluntary-sector staff improving care.'),
    h(
      'form',
      { method: 'get', action: '/search', role: 'search', 'aria-label': 'Find on Qnet', class: 'nhsuk-u-margin-bottom-5' },
      h(
        'div',
        { class: 'nhsuk-form-group' },
        h('label', { class: 'nhsuk-label', for: 'home-q' }, 'Find case studies, resources and events'),
        h('input', { class: 'nhsuk-input nhsuk-input--width-30', id: 'home-q', name: 'q', type: 'search' }),
      ),
      h('button', { class: 'nhsuk-button nhsuk-button--secondary', type: 'submit' }, 'Find'),
    ),
    h(
      'p',
      null,
      h(
        'a',
        { class: 'nhsuk-action-link', href: '/case-studies/new' },
        h('span', { class: 'nhsuk-action-link__text' }, 'Share a case study'),
      ),
    ),
  );
  const [latest, highlights, events, names] = await loading;
  const summaryCard = (cs: CaseStudyList['items'][number]) =>
    card({ href: `/case-studies/${encodeURIComponent(cs.id)}`, title: cs.title, description: cs.summary, meta: [topicTags(cs.topics, names), cs.organisation_name ? h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-0' }, cs.organisation_name) : null], headingLevel: 'h3' });
  if (highlights.items.length) ctx.main.append(h('h2', null, 'Highlights'), cardList(highlights.items.map(summaryCard), ''));
  ctx.main.append(
    h('h2', null, 'Latest case studies'),
    cardList(
      latest.items.map(summaryCard),
      'No case studies have been published yet.',
    ),
    h('p', null, link('/case-studies', 'All case studies')),
    h('h2', null, 'Upcoming events'),
    cardList(
      events.items.map((e) =>
        card({ href: `/events/${encodeURIComponent(e.id)}`, title: e.title, description: `${date(e.starts_at, true)}${e.location ? `, ${e.location}` : e.online ? ', online' : ''}`, headingLevel: 'h3' }),
      ),
      'No events are coming up.',
    ),
    h('p', null, link('/events', 'All events')),
  );
}
