import { h, link } from '../dom';
import type { PageContext } from '../router';
import { heading, organisations } from '../ui/common';

export default async function admin(ctx: PageContext): Promise<void> {
  const orgs = await organisations();
  heading(ctx, 'Admin');
  ctx.main.append(
    h('p', null, link('/admin/roles', 'Roles: moderators, organisers and admins')),
    h('h2', null, 'Organisations'),
    h('p', null, 'Staff can sign in when their email address ends with one of an organisation’s email domains.'),
    h('p', null, h('a', { class: 'nhsuk-button', href: '/admin/organisations/new' }, 'Add an organisation')),
    orgs.length
      ? h(
          'table',
          { class: 'nhsuk-table' },
          h('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, 'Organisations'),
          h('thead', { class: 'nhsuk-table__head' }, h('tr', null, ['Organisation', 'Email domains', 'Members'].map((t) => h('th', { scope: 'col', class: 'nhsuk-table__header' }, t)))),
          h(
            'tbody',
            { class: 'nhsuk-table__body' },
            orgs.map((o) =>
              h(
                'tr',
                { class: 'nhsuk-table__row' },
                h('td', { class: 'nhsuk-table__cell qnet-break' }, link(`/admin/organisations/${encodeURIComponent(o.id)}`, o.name)),
                h('td', { class: 'nhsuk-table__cell qnet-break' }, o.email_domains.join(', ') || 'None'),
                h('td', { class: 'nhsuk-table__cell' }, String(o.member_count)),
              ),
            ),
          ),
        )
      : h('p', null, 'There are no organisations yet. Until there is one, anyone can sign in, so add yours first.'),
  );
}
