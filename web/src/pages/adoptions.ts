// "We are trying this" (issue 22): on a published case study, where it has
// spread and a form for a member to record that their team is adopting or
// adapting it, optionally with one of their QI projects.

import { call, getJson, send } from '../api/client';
import type { AdoptionsView, CaseStudyView, MemberView, ProjectList } from '../api/types';
import { currentSession } from '../auth';
import { date, h, link } from '../dom';
import type { PageContext } from '../router';
import { showProblem } from '../ui/errors';
import { reportParts } from '../ui/questions';
import { busy, button, radios, select, textarea, values } from '../ui/forms';

export const ORG_TYPES: Record<string, string> = {
  nhs: 'NHS',
  local_authority: 'local authority',
  voluntary: 'voluntary sector',
  education: 'education',
  other: 'other',
};

function people(n: number): string {
  return n === 1 ? '1 team is trying this' : `${n} teams are trying this`;
}

/** The "Where this has spread" section of a published case study. */
export async function adoptionSection(ctx: PageContext, cs: CaseStudyView): Promise<HTMLElement> {
  const base = `/case-studies/${encodeURIComponent(cs.id)}/adoptions`;
  const session = currentSession();
  const [spread, mine, me] = await Promise.all([
    getJson<AdoptionsView>(base),
    session ? getJson<ProjectList>('/me/projects') : Promise.resolve(null),
    session ? getJson<MemberView>('/me') : Promise.resolve(null),
  ]);
  const own = !!me && cs.submitted_by?.member_id === me.id;
  const section = h('section', { 'aria-labelledby': 'spread-heading' }, h('h2', { id: 'spread-heading' }, 'Where this has spread'));
  if (spread.count === 0) {
    section.append(h('p', null, 'No team has recorded that it is trying this yet.'));
  } else {
    section.append(h('p', null, people(spread.count)));
    if (spread.organisations.length) {
      section.append(
        h('h3', null, 'Organisations'),
        h('ul', { class: 'nhsuk-list nhsuk-list--bullet' }, spread.organisations.map((o) => h('li', null, `${o.name} (${ORG_TYPES[o.type] ?? o.type})`))),
      );
    }
    if (spread.projects.length) {
      section.append(
        h('h3', null, 'Projects carrying the idea'),
        h('ul', { class: 'nhsuk-list nhsuk-list--bullet' }, spread.projects.map((p) => h('li', null, link(`/projects/${encodeURIComponent(p.id)}`, p.title)))),
      );
    }
    if (spread.items.length) {
      section.append(
        h('h3', null, 'Who is trying it'),
        h(
          'ul',
          { class: 'nhsuk-list', 'aria-label': 'Adoptions' },
          spread.items.map((a) => {
            const remove = a.can_remove
              ? h('form', { method: 'post' }, button(a.member_id === me?.id ? 'Withdraw' : `Remove ${a.member_name}’s adoption`, { variant: 'secondary', small: true }))
              : null;
            remove?.addEventListener('submit', (e) => {
              e.preventDefault();
              void busy(remove, async () => {
                try {
                  await call('DELETE', `${base}/${encodeURIComponent(a.member_id)}`);
                  ctx.reload();
                } catch (err) {
                  showProblem(ctx, err);
                }
              });
            });
            return h(
              'li',
              null,
              h('p', { class: 'nhsuk-u-margin-bottom-1' }, h('strong', null, a.member_name), a.organisation_name ? `, ${a.organisation_name}` : '', ` – ${a.kind === 'adapting' ? 'adapting it' : 'adopting it'} since ${date(a.created_at)}`),
              a.project ? h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-1' }, 'Project: ', link(`/projects/${encodeURIComponent(a.project.id)}`, a.project.title)) : null,
              a.note ? h('p', { class: 'nhsuk-body-s qnet-prewrap' }, a.note) : null,
              // Anyone signed in may report someone else's note to moderators.
              ...(a.note && session && a.member_id !== me?.id
                ? reportParts(ctx, { path: `${base}/${encodeURIComponent(a.member_id)}`, key: `adoption-${a.member_id}`, context: `the note from ${a.member_name}` })
                : []),
              remove,
            );
          }),
        ),
      );
    }
  }
  if (!session) {
    section.append(h('p', null, link(`/sign-in?return=${encodeURIComponent(ctx.path)}`, 'Sign in to record that your team is trying this')));
    return section;
  }
  if (own) return section;
  const projects = mine?.items ?? [];
  const form = h(
    'form',
    { method: 'post', novalidate: true, 'aria-labelledby': 'adopt-heading' },
    h('h3', { id: 'adopt-heading' }, spread.adopted_by_me ? 'Change what you recorded' : 'We are trying this'),
    h('p', null, 'Let the author and others know that your team is using this idea. The author is told once.'),
    radios({
      field: 'kind',
      legend: 'How are you using it?',
      value: 'adopting',
      items: [
        { value: 'adopting', label: 'Adopting it as it is' },
        { value: 'adapting', label: 'Adapting it to our setting' },
      ],
    }),
    projects.length
      ? select({ field: 'project_id', label: 'Which of your projects carries it? (optional)', options: [['', 'None'], ...projects.map((p): [string, string] => [p.id, p.title])] })
      : null,
    textarea({ field: 'note', label: 'How you are using it (optional)', hint: 'Do not include anything that could identify a patient.', rows: 3, maxlength: 500 }),
    button(spread.adopted_by_me ? 'Save' : 'Record that we are trying this'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = values(form);
    void busy(form, async () => {
      try {
        await send('POST', base, { body: { kind: v.text('kind') || 'adopting', project_id: v.text('project_id') || null, note: v.text('note') || null } });
        ctx.reload();
      } catch (err) {
        showProblem(ctx, err, { kind: 'How are you using it?', project_id: 'Which of your projects carries it?', note: 'How you are using it' });
      }
    });
  });
  section.append(form);
  return section;
}
