import { getJson, send } from '../api/client';
import type { CaseStudyTemplate, CaseStudyView, Sections } from '../api/types';
import { clear, h, link } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading, topics } from '../ui/common';
import { showFieldErrors, showProblem } from '../ui/errors';
import { busy, button, checkboxes, initCounts, textInput, textarea, values } from '../ui/forms';
import { similarPanel } from '../ui/similar';
import { upload, uploadRow } from '../ui/upload';
import { SECTION_HEADINGS, composeBody } from './case-study';

const HINTS: Partial<Record<keyof Sections, string>> = {
  aim: 'What you set out to improve, by how much and by when.',
  background: 'The problem and why it mattered.',
  what_we_did: 'The changes you tested, for example your PDSA cycles.',
  measures: 'What you measured to know whether the changes were an improvement.',
  results: 'What happened. Do not include anything that identifies a patient.',
  lessons_learned: 'What you would tell a team trying the same thing.',
  contact: 'Who to contact to find out more (a team or role is fine).',
};

const LABELS: Record<string, string> = {
  title: 'Title',
  summary: 'Summary',
  body: 'Your case study',
  topics: 'Topics',
  organisation_id: 'Organisation',
  ...Object.fromEntries(SECTION_HEADINGS.map(([k, label]) => [`sections.${k}`, label])),
};

export default async function share(ctx: PageContext): Promise<void> {
  const editing = ctx.params['id'];
  const [allTopics, template, existing] = await Promise.all([
    topics(),
    editing ? Promise.resolve(null) : getJson<CaseStudyTemplate>('/case-studies/template').catch(() => null),
    editing ? getJson<CaseStudyView>(`/case-studies/${encodeURIComponent(editing)}`) : Promise.resolve(null),
  ]);
  if (existing) ctx.main.append(backLink(`/case-studies/${encodeURIComponent(existing.id)}`));
  heading(ctx, editing ? 'Edit your case study' : 'Share a case study');
  if (!editing) {
    ctx.main.append(
      h('p', null, 'Tell other staff about your improvement work. A moderator checks every case study before it is published.'),
      h('p', null, 'Do not include anything that could identify a patient, such as names or NHS numbers: a case study that seems to contain one is held until a moderator removes it.'),
    );
  }
  const fileInput = h('input', { class: 'nhsuk-file-upload', id: 'f-attachments', name: 'attachments', type: 'file', multiple: true, 'aria-describedby': 'f-attachments-hint' });
  const form = h(
    'form',
    { method: 'post', novalidate: true },
    textInput({ field: 'title', label: 'Title', value: existing?.title }),
    textarea({ field: 'summary', label: 'Summary (optional)', hint: 'One or two sentences shown in lists and search results.', value: existing?.summary, rows: 3, maxlength: 1000 }),
    SECTION_HEADINGS.map(([k, label]) => textarea({ field: `sections.${k}`, label, hint: HINTS[k], value: existing?.sections[k], rows: k === 'contact' ? 2 : 6 })),
    checkboxes({ field: 'topics', legend: 'Topics', hint: 'Choose up to 10 so people can find your work.', items: allTopics.map((t) => ({ value: t.id, label: t.name })), checked: existing?.topics, small: true }),
    editing
      ? null
      : h(
          'div',
          { class: 'nhsuk-form-group' },
          h('label', { class: 'nhsuk-label', for: 'f-attachments' }, 'Attachments (optional)'),
          h('div', { class: 'nhsuk-hint', id: 'f-attachments-hint' }, 'Slides, charts or documents, up to 10 MB each. Programs and scripts are not accepted.'),
          fileInput,
        ),
    button(editing ? 'Save changes' : 'Submit for review'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = values(form);
    const sections: Sections = {};
    for (const [k] of SECTION_HEADINGS) {
      const t = v.text(`sections.${k}`);
      if (t) sections[k] = t;
    }
    const errors: { field: string; message: string }[] = [];
    if (!v.text('title')) errors.push({ field: 'title', message: 'Enter a title' });
    if (!Object.keys(sections).length) errors.push({ field: 'sections.aim', message: 'Describe your work in at least one section, starting with the aim' });
    if (v.all('topics').length > 10) errors.push({ field: 'topics', message: 'Choose 10 topics or fewer' });
    const tooBig = Array.from(fileInput.files ?? []).find((f) => f.size > 10 * 1024 * 1024);
    if (tooBig) errors.push({ field: 'attachments', message: `${tooBig.name} is larger than 10 MB` });
    if (errors.length) {
      showFieldErrors(ctx, errors);
      return;
    }
    const body = {
      title: v.text('title'),
      summary: v.text('summary') || undefined,
      body: composeBody(sections),
      sections,
      topics: v.all('topics'),
    };
    void busy(form, async () => {
      try {
        if (existing) {
          const updated = await send<CaseStudyView>('PATCH', `/case-studies/${encodeURIComponent(existing.id)}`, { body, ifMatch: existing.version });
          ctx.navigate(`/case-studies/${encodeURIComponent(updated.id)}`);
          return;
        }
        const created = await send<CaseStudyView>('POST', '/case-studies', { body, create: true });
        await submitted(ctx, created, Array.from(fileInput.files ?? []));
      } catch (err) {
        showProblem(ctx, err, LABELS);
      }
    });
  });
  ctx.main.append(form);
  if (!editing) {
    // Similar work follows the form (as on "Register a project"): it fills in
    // when the title, summary or aim is left.
    const similar = similarPanel(() => {
      const v = values(form);
      return { title: v.text('title'), aim: [v.text('summary'), v.text('sections.aim')].filter(Boolean).join('\n'), topics: v.all('topics') };
    });
    form.after(similar.panel);
    for (const name of ['title', 'summary', 'sections.aim']) form.querySelector(`[name="${name}"]`)?.addEventListener('change', similar.check);
  }
  initCounts(form);
  if (template) {
    ctx.main.append(
      h(
        'details',
        { class: 'nhsuk-details' },
        h('summary', { class: 'nhsuk-details__summary' }, h('span', { class: 'nhsuk-details__summary-text' }, 'Send a case study by email instead')),
        h(
          'div',
          { class: 'nhsuk-details__text' },
          h('p', null, 'You can email your case study to the Qnet case study address from your work email. Copy this template into the email, write under each heading, and attach any files. You will get a reply when it arrives, and it is checked by a moderator like any other.'),
          h('pre', { class: 'qnet-prewrap nhsuk-body-s', tabindex: '0', 'aria-label': 'Case study email template' }, template.text),
        ),
      ),
    );
  }
}

async function submitted(ctx: PageContext, cs: CaseStudyView, files: File[]): Promise<void> {
  clear(ctx.main);
  document.title = 'Case study submitted - Qnet';
  const h1 = h('h1', { class: 'nhsuk-panel__title', tabindex: '-1' }, 'Case study submitted');
  ctx.main.append(
    h('div', { class: 'nhsuk-panel nhsuk-panel--confirmation' }, h1, h('div', { class: 'nhsuk-panel__body' }, 'Your case study is pending review')),
    h('p', null, `A moderator will check "${cs.title}" before it is published. We will email you when they have.`),
  );
  h1.focus();
  if (files.length) {
    const list = h('ul', { class: 'nhsuk-list' });
    ctx.main.append(h('h2', null, 'Attachments'), list);
    const path = `/case-studies/${encodeURIComponent(cs.id)}`;
    for (const file of files) {
      const row = uploadRow(file.name);
      list.appendChild(row.row);
      try {
        await upload(file, `${path}/attachments`, async (id) => (await getJson<CaseStudyView>(path)).attachments.find((a) => a.id === id), row);
      } catch (err) {
        row.setState(`Not uploaded: ${err instanceof Error ? err.message : 'try again'}`, 'red');
      }
    }
  }
  ctx.main.append(
    h('p', null, link(`/case-studies/${encodeURIComponent(cs.id)}`, 'View your case study')),
    h('p', null, link('/my/submissions', 'See all your submissions')),
  );
}
