import { send } from '../api/client';
import type { MentoringRequestView } from '../api/types';
import { h } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading, topics } from '../ui/common';
import { showFieldErrors, showProblem } from '../ui/errors';
import { busy, button, checkboxes, initCounts, radios, textInput, textarea, values } from '../ui/forms';

const LABELS: Record<string, string> = { kind: 'Mentoring or coaching', topics: 'Topics', goals: 'What you would like help with', cross_organisation: 'Another organisation', 'availability.modes': 'How you can meet' };

export default async function mentoringAsk(ctx: PageContext): Promise<void> {
  const all = await topics();
  ctx.main.append(backLink('/mentoring', 'Mentoring and coaching'));
  heading(ctx, 'Ask for a mentor or coach');
  ctx.main.append(h('p', null, 'Tell us what you would like help with. Qnet proposes the mentor who suits you best and emails them; you see who, and why, straight away.'));
  const form = h(
    'form',
    { method: 'post', novalidate: true },
    radios({ field: 'kind', legend: 'Mentoring or coaching', value: 'mentoring', items: [{ value: 'mentoring', label: 'Mentoring', hint: 'Advice from someone who has done it' }, { value: 'coaching', label: 'Coaching', hint: 'Questions that help you find your own way' }] }),
    checkboxes({ field: 'topics', legend: 'Topics', items: all.map((t) => ({ value: t.id, label: t.name })), small: true }),
    textarea({ field: 'goals', label: 'What you would like help with', hint: 'Your goals, in a few sentences. Do not include anything that could identify a patient.', maxlength: 4000 }),
    radios({
      field: 'cross_organisation',
      legend: 'A mentor from another organisation',
      value: 'no_preference',
      items: [
        { value: 'no_preference', label: 'No preference' },
        { value: 'prefer', label: 'I would prefer someone from another organisation' },
        { value: 'require', label: 'Only someone from another organisation' },
      ],
    }),
    checkboxes({ field: 'availability.modes', legend: 'How you can meet', items: [{ value: 'in_person', label: 'In person' }, { value: 'online', label: 'Online' }], checked: ['online'], small: true }),
    textInput({ field: 'availability.note', label: 'When you are free (optional)' }),
    button('Ask for a mentor'),
  );
  ctx.main.append(form);
  initCounts(form);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = values(form);
    const errors: { field: string; message: string }[] = [];
    if (!v.all('topics').length) errors.push({ field: 'topics', message: 'Choose at least one topic' });
    if (!v.text('goals')) errors.push({ field: 'goals', message: 'Say what you would like help with' });
    if (errors.length) return showFieldErrors(ctx, errors);
    void busy(form, async () => {
      try {
        const r = await send<MentoringRequestView>('POST', '/mentoring-requests', {
          create: true,
          body: {
            kind: v.text('kind') || 'mentoring',
            topics: v.all('topics'),
            goals: v.text('goals'),
            cross_organisation: v.text('cross_organisation') || 'no_preference',
            availability: { modes: v.all('availability.modes'), note: v.text('availability.note') || null },
          },
        });
        ctx.navigate(`/mentoring/requests/${encodeURIComponent(r.id)}`);
      } catch (err) {
        showProblem(ctx, err, LABELS);
      }
    });
  });
}
