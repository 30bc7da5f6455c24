import { getJson } from '../api/client';
import type { CaseStudyList, CaseStudyView } from '../api/types';
import { date, h, link } from '../dom';
import type { PageContext } from '../router';
import { heading, pagination, statusTag } from '../ui/common';

export default async function mySubmissions(ctx: PageContext): Promise<void> {
  const list = await getJson<CaseStudyList>('/me/case-studies', { cursor: ctx.query.get('cursor'), limit: 20 });
  // The list has no rejection reason: read each rejected one.
  const reasons = new Map<string, string>();
  await Promise.all(
    list.items
      .filter((cs) => cs.status === 'rejected')
      .map(async (cs) => {
        const full = await getJson<CaseStudyView>(`/case-studies/${encodeURIComponent(cs.id)}`).catch(() => null);
        if (full?.rejection_reason) reasons.set(cs.id, full.rejection_reason);
      }),
  );
  heading(ctx, 'My submissions');
  ctx.main.append(h('p', null, 'Case studies you have shared and where each one has got to. You can edit one while it is pending review.'));
  if (!list.items.length) {
    ctx.main.append(h('p', null, 'You have not shared a case study yet. ', link('/case-studies/new', 'Share a case study'), '.'));
    return;
  }
  ctx.main.append(
    h(
      'table',
      { class: 'nhsuk-table' },
      h('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, 'Your case studies'),
      h('thead', { class: 'nhsuk-table__head' }, h('tr', null, ['Case study', 'Submitted', 'Status', 'Action'].map((t) => h('th', { scope: 'col', class: 'nhsuk-table__header' }, t)))),
      h(
        'tbody',
        { class: 'nhsuk-table__body' },
        list.items.map((cs) =>
          h(
            'tr',
            { class: 'nhsuk-table__row' },
            h('td', { class: 'nhsuk-table__cell qnet-break' }, link(`/case-studies/${encodeURIComponent(cs.id)}`, cs.title)),
            h('td', { class: 'nhsuk-table__cell' }, date(cs.created_at ?? cs.published_at)),
            h('td', { class: 'nhsuk-table__cell' }, statusTag(cs.status, cs.hold), cs.hold ? h('p', { class: 'nhsuk-body-s nhsuk-u-margin-top-2 nhsuk-u-margin-bottom-0' }, `Held: ${cs.hold.reason}`) : null,
              reasons.has(cs.id) ? h('p', { class: 'nhsuk-body-s nhsuk-u-margin-top-2 nhsuk-u-margin-bottom-0' }, `Reason: ${reasons.get(cs.id)}`) : null,
            ),
            h(
              'td',
              { class: 'nhsuk-table__cell' },
              cs.status === 'pending' ? link(`/case-studies/${encodeURIComponent(cs.id)}/edit`, ['Edit', h('span', { class: 'nhsuk-u-visually-hidden' }, ` ${cs.title}`)]) : '',
            ),
          ),
        ),
      ),
    ),
    pagination(ctx, list.next_cursor) ?? '',
  );
}
