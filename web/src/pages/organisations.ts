import { getJson } from '../api/client';
import type { OrganisationList } from '../api/types';
import { h, link } from '../dom';
import type { PageContext } from '../router';
import { heading, pagination } from '../ui/common';

export const ORGANISATION_TYPES: Record<string, string> = {
  nhs: 'NHS',
  local_authority: 'Local authority',
  voluntary: 'Voluntary sector',
  education: 'Education',
  other: 'Other',
};

export default async function organisationsPage(ctx: PageContext): Promise<void> {
  const list = await getJson<OrganisationList>('/organisations', { cursor: ctx.query.get('cursor'), limit: 100 });
  heading(ctx, 'Organisations');
  ctx.main.append(
    h('p', null, 'The organisations in the network, with how many of their staff have joined Qnet.'),
    h('p', null, link('/members', 'Find members')),
    list.items.length
      ? h(
          'div',
          { class: 'qnet-table-scroll' },
          h(
            'table',
            { class: 'nhsuk-table' },
            h('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, 'Organisations'),
            h('thead', { class: 'nhsuk-table__head' }, h('tr', null, ['Organisation', 'Type', 'Members'].map((t) => h('th', { scope: 'col', class: 'nhsuk-table__header' }, t)))),
            h(
              'tbody',
              { class: 'nhsuk-table__body' },
              list.items.map((o) =>
                h(
                  'tr',
                  { class: 'nhsuk-table__row' },
                  h('td', { class: 'nhsuk-table__cell qnet-break' }, link(`/members?organisation=${encodeURIComponent(o.id)}`, o.name)),
                  h('td', { class: 'nhsuk-table__cell' }, ORGANISATION_TYPES[o.type] ?? o.type),
                  h('td', { class: 'nhsuk-table__cell' }, String(o.member_count)),
                ),
              ),
            ),
          ),
        )
      : h('p', null, 'No organisations have been added yet.'),
    pagination(ctx, list.next_cursor) ?? '',
  );
}
