import { send } from '../api/client';
import type { Organisation } from '../api/types';
import { h } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading, organisations } from '../ui/common';
import { showProblem } from '../ui/errors';
import { busy, button, select, textInput, textarea, values } from '../ui/forms';

const TYPES: [string, string][] = [
  ['nhs', 'NHS'],
  ['local_authority', 'Local authority'],
  ['voluntary', 'Voluntary sector'],
  ['education', 'Education'],
  ['other', 'Other'],
];
const LABELS = { name: 'Name', type: 'Type', ods_code: 'ODS code', email_domains: 'Email domains' };

export default async function organisation(ctx: PageContext): Promise<void> {
  const id = ctx.params['id'];
  let existing: (Organisation & { member_count?: number }) | undefined;
  if (id) {
    existing = (await organisations()).find((o) => o.id === id);
    if (!existing) {
      const nf = await import('./not-found');
      return nf.default(ctx);
    }
  }
  ctx.main.append(backLink('/admin', 'Back to admin'));
  heading(ctx, existing ? existing.name : 'Add an organisation', existing ? 'Edit organisation' : undefined);
  const form = h(
    'form',
    { method: 'post', novalidate: true },
    textInput({ field: 'name', label: 'Name', value: existing?.name }),
    select({ field: 'type', label: 'Type', value: existing?.type ?? 'nhs', options: TYPES }),
    textInput({ field: 'ods_code', label: 'ODS code (optional)', value: existing?.ods_code, width: '10' }),
    textarea({ field: 'email_domains', label: 'Email domains', hint: 'One a line, for example leedsth.nhs.uk. Staff with these addresses can sign in and join this organisation.', value: existing?.email_domains.join('\n'), rows: 4 }),
    button(existing ? 'Save organisation' : 'Add organisation'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = values(form);
    const body = {
      name: v.text('name'),
      type: v.text('type'),
      ods_code: v.text('ods_code') || undefined,
      email_domains: v
        .text('email_domains')
        .split(/[\s,]+/)
        .map((d) => d.trim().replace(/^@/, ''))
        .filter(Boolean),
    };
    void busy(form, async () => {
      try {
        if (existing) await send('PATCH', `/organisations/${encodeURIComponent(existing.id)}`, { body, ifMatch: existing.version });
        else await send('POST', '/organisations', { body, create: true });
        ctx.navigate('/admin');
      } catch (err) {
        showProblem(ctx, err, LABELS);
      }
    });
  });
  ctx.main.append(form);
}
