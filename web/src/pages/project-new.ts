import { getJson, send } from '../api/client';
import type { Classification, ClassificationGuide, DirectoryPage, MemberView, ProjectView } from '../api/types';
import { h } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading, organisations, topics } from '../ui/common';
import { showFieldErrors, showProblem } from '../ui/errors';
import { busy, button, checkboxes, initCounts, radios, select, textInput, textarea, values } from '../ui/forms';
import { similarPanel } from '../ui/similar';
import { CLASSIFICATIONS, STATUSES } from './projects';

const LABELS: Record<string, string> = {
  title: 'Title',
  aim: 'Aim',
  problem: 'The problem',
  organisation_ids: 'Organisations',
  topics: 'Topics',
  status: 'Status',
  started_on: 'Started on',
  progress_score: 'Progress score',
  team: 'Team',
  classification: 'Kind of work',
};

/** The guided classification: the first "yes" decides; all "no" is the default. */
function classify(guide: ClassificationGuide, answers: (string | null)[]): Classification | null {
  for (let i = 0; i < guide.questions.length; i++) {
    const a = answers[i];
    if (a === 'yes') return guide.questions[i]!.if_yes;
    if (a !== 'no') return null;
  }
  return guide.if_all_no;
}

export default async function projectNew(ctx: PageContext): Promise<void> {
  const [guide, allTopics, orgs, me, dir] = await Promise.all([
    getJson<ClassificationGuide>('/projects/classification-questions'),
    topics(),
    organisations(),
    getJson<MemberView>('/me'),
    getJson<DirectoryPage>('/members', { limit: 100 }),
  ]);
  ctx.main.append(backLink('/projects', 'Projects'));
  heading(ctx, 'Register a project');
  ctx.main.append(h('p', null, 'Tell the network what you are improving, so others can follow, learn and help. Do not include anything that could identify a patient.'));
  const result = h('div', { class: 'nhsuk-inset-text', 'aria-live': 'polite' }, 'Answer the questions to see what kind of work this is.');
  const others = dir.items.filter((m) => m.id !== me.id);
  const form = h(
    'form',
    { method: 'post', novalidate: true },
    textInput({ field: 'title', label: 'Title' }),
    textarea({ field: 'aim', label: 'Aim', hint: 'What you will improve, by how much and by when. For example: reduce falls on ward 12 by 30% by June.', rows: 3, maxlength: 2000 }),
    textarea({ field: 'problem', label: 'The problem (optional)', hint: 'What is happening now and why it matters.', rows: 4, maxlength: 10000 }),
    h('h2', null, 'What kind of work is it?'),
    h('p', null, 'Answer in order: the first “yes” decides.'),
    guide.questions.map((q) => radios({ field: `question-${q.id}`, legend: q.text, hint: q.help, inline: true, items: [{ value: 'yes', label: 'Yes' }, { value: 'no', label: 'No' }] })),
    result,
    h('h2', null, 'Details'),
    checkboxes({ field: 'organisation_ids', legend: 'Organisations', hint: 'Every organisation taking part.', items: orgs.map((o) => ({ value: o.id, label: o.name })), checked: me.organisation_id ? [me.organisation_id] : [], small: true }),
    checkboxes({ field: 'topics', legend: 'Topics', items: allTopics.map((t) => ({ value: t.id, label: t.name })), small: true }),
    select({ field: 'status', label: 'Status', value: 'idea', options: Object.entries(STATUSES) }),
    textInput({ field: 'started_on', label: 'Started on (optional)', type: 'date', width: '10' }),
    select({
      field: 'progress_score',
      label: 'Progress score',
      hint: 'The IHI progress scale, from 0.5 (intent to participate) to 5 (outstanding sustainable results).',
      value: '',
      options: [['', 'Not scored yet'], ...guide.progress_scale.map((p): [string, string] => [String(p.score), `${p.score}: ${p.label}`])],
    }),
    others.length
      ? checkboxes({ field: 'team', legend: 'Team', hint: 'Members listed in the directory. They are invited and join when they accept; you lead the project.', items: others.map((m) => ({ value: m.id, label: `${m.name}${m.organisation ? `, ${m.organisation.name}` : ''}` })), small: true })
      : h('p', null, 'You lead the project. Team members can be invited once colleagues list themselves in the member directory.'),
    button('Register the project'),
  );
  const answers = () => guide.questions.map((q) => values(form).text(`question-${q.id}`) || null);
  form.addEventListener('change', () => {
    const c = classify(guide, answers());
    if (!c) {
      result.textContent = 'Answer the questions to see what kind of work this is.';
      return;
    }
    const outcome = guide.outcomes.find((o) => o.classification === c);
    result.textContent = '';
    result.append(h('p', null, h('strong', null, `This is ${CLASSIFICATIONS[c] ?? c}.`)), outcome ? h('p', { class: 'nhsuk-u-margin-bottom-0' }, outcome.note) : '');
    if (outcome?.needs_ethics_approval) result.append(h('p', { class: 'nhsuk-u-margin-bottom-0' }, h('strong', null, 'Research needs ethics (HRA) approval before it starts.')));
  });
  // Similar work follows the form (not between its fields, so that neither the
  // tab order nor the fields move as it fills in): it fills in when the title,
  // aim or problem is left, or on its button.
  const similar = similarPanel(() => {
    const v = values(form);
    return { title: v.text('title'), aim: [v.text('aim'), v.text('problem')].filter(Boolean).join('\n'), topics: v.all('topics') };
  });
  for (const name of ['title', 'aim', 'problem']) form.querySelector(`[name="${name}"]`)?.addEventListener('change', similar.check);
  ctx.main.append(form, similar.panel);
  initCounts(form);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = values(form);
    const errors: { field: string; message: string }[] = [];
    if (!v.text('title')) errors.push({ field: 'title', message: 'Enter a title' });
    if (!v.text('aim')) errors.push({ field: 'aim', message: 'Enter the aim' });
    if (!v.all('organisation_ids').length) errors.push({ field: 'organisation_ids', message: 'Choose at least one organisation' });
    if (errors.length) return showFieldErrors(ctx, errors);
    const score = v.text('progress_score');
    void busy(form, async () => {
      try {
        const p = await send<ProjectView>('POST', '/projects', {
          create: true,
          body: {
            title: v.text('title'),
            aim: v.text('aim'),
            problem: v.text('problem') || null,
            classification: classify(guide, answers()),
            organisation_ids: v.all('organisation_ids'),
            topics: v.all('topics'),
            status: v.text('status') || 'idea',
            started_on: v.text('started_on') || null,
            progress_score: score ? Number(score) : null,
            team: v.all('team'),
          },
        });
        ctx.navigate(`/projects/${encodeURIComponent(p.id)}`);
      } catch (err) {
        showProblem(ctx, err, LABELS);
      }
    });
  });
}
