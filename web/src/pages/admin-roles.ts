import { getJson, remove, send } from '../api/client';
import type { RoleGrant } from '../api/types';
import { h } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading } from '../ui/common';
import { showFieldErrors, showProblem } from '../ui/errors';
import { busy, button, select, textInput, values } from '../ui/forms';

const ROLE_NAMES: Record<string, string> = { moderator: 'Moderator', organiser: 'Organiser', admin: 'Admin' };

export default async function roles(ctx: PageContext): Promise<void> {
  const list = await getJson<{ items: RoleGrant[] }>('/admin/roles');
  ctx.main.append(backLink('/admin', 'Back to admin'));
  heading(ctx, 'Roles');
  ctx.main.append(h('p', null, 'Moderators check submissions, organisers run events, admins manage organisations and roles. A role takes effect the next time the person signs in.'));
  const form = h(
    'form',
    { method: 'post', novalidate: true },
    h('h2', null, 'Grant a role'),
    textInput({ field: 'email', label: 'Email address', type: 'email', width: '30' }),
    select({ field: 'role', label: 'Role', value: 'moderator', options: Object.entries(ROLE_NAMES) }),
    button('Grant role'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = values(form);
    if (!v.text('email').includes('@')) {
      showFieldErrors(ctx, [{ field: 'email', message: 'Enter an email address' }]);
      return;
    }
    void busy(form, async () => {
      try {
        await send('PUT', '/admin/roles', { body: { email: v.text('email'), role: v.text('role') } });
        ctx.reload();
      } catch (err) {
        showProblem(ctx, err, { email: 'Email address', role: 'Role' });
      }
    });
  });
  ctx.main.append(
    h('h2', null, 'People with a role'),
    list.items.length
      ? h(
          'table',
          { class: 'nhsuk-table' },
          h('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, 'People with a role'),
          h('thead', { class: 'nhsuk-table__head' }, h('tr', null, ['Email address', 'Role', 'Action'].map((t) => h('th', { scope: 'col', class: 'nhsuk-table__header' }, t)))),
          h(
            'tbody',
            { class: 'nhsuk-table__body' },
            list.items.map((g) =>
              h(
                'tr',
                { class: 'nhsuk-table__row' },
                h('td', { class: 'nhsuk-table__cell qnet-break' }, g.email),
                h('td', { class: 'nhsuk-table__cell' }, ROLE_NAMES[g.role] ?? g.role),
                h(
                  'td',
                  { class: 'nhsuk-table__cell' },
                  h(
                    'button',
                    {
                      class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0',
                      type: 'button',
                      onclick: async () => {
                        try {
                          await remove('/admin/roles', { email: g.email, role: g.role });
                          ctx.reload();
                        } catch (err) {
                          showProblem(ctx, err);
                        }
                      },
                    },
                    'Revoke',
                    h('span', { class: 'nhsuk-u-visually-hidden' }, ` ${ROLE_NAMES[g.role] ?? g.role} from ${g.email}`),
                  ),
                ),
              ),
            ),
          ),
        )
      : h('p', null, 'Nobody has a role yet.'),
    form,
  );
}
