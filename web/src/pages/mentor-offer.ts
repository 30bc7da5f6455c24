import { ApiError, getJson, send } from '../api/client';
import type { MentorView } from '../api/types';
import { h, link } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading, topics } from '../ui/common';
import { showFieldErrors, showProblem } from '../ui/errors';
import { busy, button, checkboxes, initCounts, radios, select, textInput, textarea, values } from '../ui/forms';

const LABELS: Record<string, string> = {
  offers: 'What you offer',
  topics: 'Topics',
  skills: 'Skills',
  capacity: 'How many mentees at once',
  'availability.modes': 'How you can meet',
  'availability.note': 'When you are free',
  bio: 'About you',
  coaching_accreditation: 'Coaching accreditation',
  accepting: 'Taking new mentees',
};

export default async function mentorOffer(ctx: PageContext): Promise<void> {
  let current: MentorView | null = null;
  try {
    current = await getJson<MentorView>('/me/mentor');
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  }
  const all = await topics();
  ctx.main.append(backLink('/mentoring', 'Mentoring and coaching'));
  heading(ctx, 'Offer to mentor or coach');
  const avail = (current?.availability ?? {}) as { modes?: string[]; note?: string | null };
  const form = h(
    'form',
    { method: 'post', novalidate: true },
    checkboxes({ field: 'offers', legend: 'What you offer', items: [{ value: 'mentoring', label: 'Mentoring' }, { value: 'coaching', label: 'Coaching' }], checked: current?.offers ?? [] }),
    checkboxes({ field: 'topics', legend: 'Topics', hint: 'Up to 10: the areas you can help with.', items: all.map((t) => ({ value: t.id, label: t.name })), checked: current?.topics ?? [], small: true }),
    textInput({ field: 'skills', label: 'Skills', hint: 'Separate them with commas, for example: process mapping, run charts.', value: current?.skills.join(', ') }),
    select({ field: 'capacity', label: 'How many mentees at once', value: String(current?.capacity ?? 2), options: Array.from({ length: 20 }, (_, i): [string, string] => [String(i + 1), String(i + 1)]) }),
    checkboxes({ field: 'availability.modes', legend: 'How you can meet', items: [{ value: 'in_person', label: 'In person' }, { value: 'online', label: 'Online' }], checked: avail.modes ?? ['online'], small: true }),
    textInput({ field: 'availability.note', label: 'When you are free', hint: 'For example: Tuesday afternoons.', value: avail.note ?? '' }),
    textarea({ field: 'bio', label: 'About you', hint: 'Your experience in improvement, in a few sentences.', value: current?.bio ?? '', maxlength: 2000 }),
    textInput({ field: 'coaching_accreditation', label: 'Coaching accreditation (optional)', value: current?.coaching_accreditation ?? '' }),
    radios({
      field: 'accepting',
      legend: 'Taking new mentees',
      value: current && !current.accepting ? 'no' : 'yes',
      items: [
        { value: 'yes', label: 'Yes, propose me to people who ask' },
        { value: 'no', label: 'Paused: do not propose me for now' },
      ],
    }),
    button(current ? 'Save mentor profile' : 'Offer to mentor'),
  );
  ctx.main.append(form);
  initCounts(form);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = values(form);
    const errors: { field: string; message: string }[] = [];
    if (!v.all('offers').length) errors.push({ field: 'offers', message: 'Choose mentoring, coaching or both' });
    if (!v.all('topics').length) errors.push({ field: 'topics', message: 'Choose at least one topic' });
    if (v.all('topics').length > 10) errors.push({ field: 'topics', message: 'Choose 10 topics or fewer' });
    if (errors.length) return showFieldErrors(ctx, errors);
    const skills = v.text('skills').split(',').map((s) => s.trim()).filter(Boolean);
    void busy(form, async () => {
      try {
        await send<MentorView>('PUT', '/me/mentor', {
          body: {
            offers: v.all('offers'),
            topics: v.all('topics'),
            skills,
            capacity: Number(v.text('capacity')),
            availability: { modes: v.all('availability.modes'), note: v.text('availability.note') || null },
            bio: v.text('bio') || null,
            coaching_accreditation: v.text('coaching_accreditation') || null,
            accepting: v.text('accepting') !== 'no',
          },
        });
        ctx.navigate('/mentoring');
      } catch (err) {
        showProblem(ctx, err, LABELS);
      }
    });
  });
  ctx.main.append(h('p', null, link('/mentoring', 'Back to mentoring and coaching')));
}
