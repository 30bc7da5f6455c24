import { call, getJson, send } from '../api/client';
import type { Board, DirectoryPage, FollowState, MeasureList, MemberView, PdsaList, ProjectView } from '../api/types';
import { date, h, link, paragraphs, summaryList } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading, insetText, topicNames, topicTags } from '../ui/common';
import { showFieldErrors, showProblem } from '../ui/errors';
import { busy, button, initCounts, radios, select, textInput, textarea, values } from '../ui/forms';
import { CLASSIFICATIONS, STATUSES } from './projects';

export default async function project(ctx: PageContext): Promise<void> {
  const id = ctx.params['id']!;
  const base = `/projects/${encodeURIComponent(id)}`;
  const [p, names, me, dir, pdsa, measures, board] = await Promise.all([
    getJson<ProjectView>(base),
    topicNames(),
    getJson<MemberView>('/me'),
    getJson<DirectoryPage>('/members', { limit: 100 }),
    getJson<PdsaList>(`${base}/pdsa`, { limit: 100 }),
    getJson<MeasureList>(`${base}/measures`, { limit: 100 }),
    getJson<Board>(`${base}/posts`, { limit: 50 }),
  ]);
  const people = new Map(dir.items.map((m) => [m.id, m.name]));
  people.set(me.id, me.name);
  const onTeam = p.team.includes(me.id);
  ctx.main.append(backLink('/projects', 'Projects'));
  heading(ctx, p.title, 'Project');
  ctx.main.append(
    summaryList([
      ['Status', STATUSES[p.status] ?? p.status],
      ['Kind of work', p.classification ? CLASSIFICATIONS[p.classification] ?? p.classification : 'Not classified'],
      ['Organisations', p.organisations.map((o) => o.name ?? o.id).join(', ') || 'None'],
      ['Progress score', p.progress_score != null ? `${p.progress_score}${p.progress_label ? `: ${p.progress_label}` : ''}` : 'Not scored'],
      ['Team', h('ul', { class: 'nhsuk-list nhsuk-u-margin-bottom-0' }, p.team.map((m) => h('li', null, `${people.get(m) ?? 'A member'}${m === p.lead_id ? ' (lead)' : ''}`)))],
      ['Started', p.started_on ? date(p.started_on) : 'Not started'],
      ['Topics', topicTags(p.topics, names) ?? 'None'],
    ]),
    p.ethics_approval_required ? insetText('This is research: it needs ethics (HRA) approval before it starts.') : '',
    p.inspired_by.length
      ? h('div', null, h('h2', null, 'Where the idea came from'), h('ul', { class: 'nhsuk-list nhsuk-list--bullet' }, p.inspired_by.map((i) => h('li', null, link(`/case-studies/${encodeURIComponent(i.case_study_id)}`, i.title)))))
      : '',
    h('h2', null, 'Aim'),
    ...paragraphs(p.aim),
    p.problem ? h('div', null, h('h2', null, 'The problem'), paragraphs(p.problem)) : '',
  );

  // Measures.
  ctx.main.append(
    h('h2', null, 'Measures'),
    measures.items.length
      ? h('ul', { class: 'nhsuk-list' }, measures.items.map((m) => h('li', null, link(`${base}/measures/${encodeURIComponent(m.id)}`, m.name), ` (${m.type} measure, ${m.point_count} ${m.point_count === 1 ? 'point' : 'points'})`)))
      : h('p', null, 'No measures yet.'),
  );
  if (onTeam) {
    const mform = h(
      'form',
      { method: 'post', novalidate: true, 'aria-labelledby': 'add-measure' },
      h('h3', { id: 'add-measure' }, 'Add a measure'),
      textInput({ field: 'name', label: 'Measure name' }),
      radios({ field: 'type', legend: 'Type of measure', value: 'outcome', inline: true, items: [{ value: 'outcome', label: 'Outcome' }, { value: 'process', label: 'Process' }, { value: 'balancing', label: 'Balancing' }] }),
      radios({ field: 'improvement_direction', legend: 'Which way is better', value: 'up', inline: true, items: [{ value: 'up', label: 'Higher' }, { value: 'down', label: 'Lower' }, { value: 'neither', label: 'Neither' }] }),
      textInput({ field: 'unit', label: 'Unit (optional)', hint: 'For example: %, minutes, falls', width: '10' }),
      select({ field: 'frequency', label: 'How often it is measured', value: 'weekly', options: [['daily', 'Daily'], ['weekly', 'Weekly'], ['fortnightly', 'Fortnightly'], ['monthly', 'Monthly'], ['quarterly', 'Quarterly'], ['yearly', 'Yearly']] }),
      textarea({ field: 'definition', label: 'Definition (optional)', hint: 'Numerator, denominator and where the data comes from.', rows: 3 }),
      button('Add the measure', { variant: 'secondary' }),
    );
    mform.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = values(mform);
      if (!v.text('name')) return showFieldErrors(ctx, [{ field: 'name', message: 'Enter the measure’s name' }]);
      void busy(mform, async () => {
        try {
          const m = await send<{ id: string }>('POST', `${base}/measures`, {
            create: true,
            body: { name: v.text('name'), type: v.text('type'), improvement_direction: v.text('improvement_direction'), unit: v.text('unit') || null, frequency: v.text('frequency'), definition: v.text('definition') || null },
          });
          ctx.navigate(`${base}/measures/${encodeURIComponent(m.id)}`);
        } catch (err) {
          showProblem(ctx, err, { name: 'Measure name', unit: 'Unit', definition: 'Definition' });
        }
      });
    });
    ctx.main.append(mform);
  }

  // PDSA cycles.
  ctx.main.append(
    h('h2', null, 'PDSA cycles'),
    pdsa.items.length
      ? h(
          'ol',
          { class: 'nhsuk-list', 'aria-label': 'PDSA cycles' },
          pdsa.items.map((c, i) =>
            h(
              'li',
              null,
              h('div', { class: 'nhsuk-card' }, h(
                'div',
                { class: 'nhsuk-card__content' },
                h('h3', { class: 'nhsuk-card__heading nhsuk-heading-s' }, c.title ?? `Cycle ${pdsa.items.length - i}`),
                c.started_on ? h('p', { class: 'nhsuk-body-s' }, `From ${date(c.started_on)}${c.ended_on ? ` to ${date(c.ended_on)}` : ''}`) : '',
                summaryList(
                  ([['Plan', c.plan], ['Prediction', c.prediction], ['Do', c.do], ['Study', c.study], ['Act', c.act]] as [string, string | null | undefined][])
                    .filter(([, v]) => v)
                    .map(([k, v]): [string, HTMLElement] => [k, h('span', { class: 'qnet-prewrap' }, v!)]),
                ),
              )),
            ),
          ),
        )
      : h('p', null, 'No PDSA cycles logged yet.'),
  );
  if (onTeam) {
    const cform = h(
      'form',
      { method: 'post', novalidate: true, 'aria-labelledby': 'add-cycle' },
      h('h3', { id: 'add-cycle' }, 'Log a PDSA cycle'),
      textInput({ field: 'title', label: 'Title (optional)' }),
      textarea({ field: 'plan', label: 'Plan', hint: 'What change you will test, with whom, when and where.', rows: 3 }),
      textarea({ field: 'prediction', label: 'Prediction', hint: 'What you expect to happen.', rows: 2 }),
      textarea({ field: 'do', label: 'Do', hint: 'What happened when you ran the test.', rows: 2 }),
      textarea({ field: 'study', label: 'Study', hint: 'What the data shows, against your prediction.', rows: 2 }),
      textarea({ field: 'act', label: 'Act', hint: 'Adopt, adapt or abandon, and the next cycle.', rows: 2 }),
      textInput({ field: 'started_on', label: 'Started on (optional)', type: 'date', width: '10' }),
      textInput({ field: 'ended_on', label: 'Ended on (optional)', type: 'date', width: '10' }),
      button('Log the cycle', { variant: 'secondary' }),
    );
    cform.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = values(cform);
      if (!v.text('plan')) return showFieldErrors(ctx, [{ field: 'plan', message: 'Enter the plan' }]);
      const opt = (k: string) => v.text(k) || null;
      void busy(cform, async () => {
        try {
          await send('POST', `${base}/pdsa`, { create: true, body: { title: opt('title'), plan: v.text('plan'), prediction: opt('prediction'), do: opt('do'), study: opt('study'), act: opt('act'), started_on: opt('started_on'), ended_on: opt('ended_on') } });
          ctx.reload();
        } catch (err) {
          showProblem(ctx, err, { plan: 'Plan', prediction: 'Prediction', do: 'Do', study: 'Study', act: 'Act', started_on: 'Started on', ended_on: 'Ended on' });
        }
      });
    });
    ctx.main.append(cform);
  }

  // The board.
  const follow = h('form', { method: 'post' }, button(p.following ? 'Unfollow this project' : 'Follow this project', { variant: 'secondary' }));
  follow.addEventListener('submit', (e) => {
    e.preventDefault();
    void busy(follow, async () => {
      try {
        if (p.following) await call('DELETE', `${base}/follow`);
        else await send<FollowState>('POST', `${base}/follow`);
        ctx.reload();
      } catch (err) {
        showProblem(ctx, err);
      }
    });
  });
  const post = h(
    'form',
    { method: 'post', novalidate: true },
    textarea({ field: 'body', label: 'New post', hint: 'Ask a question or share an update. Do not include anything that could identify a patient.', rows: 4, maxlength: 10000 }),
    button('Post to the board'),
  );
  post.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = values(post).text('body');
    if (!body) return showFieldErrors(ctx, [{ field: 'body', message: 'Write your post' }]);
    void busy(post, async () => {
      try {
        await send('POST', `${base}/posts`, { create: true, body: { body } });
        ctx.reload();
      } catch (err) {
        showProblem(ctx, err, { body: 'New post' });
      }
    });
  });
  ctx.main.append(
    h('h2', null, 'Board'),
    h('p', null, p.following ? 'You follow this project: new posts and replies come to you by email, and you can answer them by replying to the email.' : 'Follow the project to get new posts and replies by email; you can answer them by replying to the email.'),
    follow,
    board.threads.length
      ? h(
          'ul',
          { class: 'nhsuk-list', 'aria-label': 'Posts' },
          board.threads.map((t, i) => {
            const reply = h(
              'form',
              { method: 'post', novalidate: true },
              textarea({ field: `reply-${i}`, label: `Reply to ${t.post.author_name}`, rows: 2 }),
              button('Send reply', { variant: 'secondary', small: true }),
            );
            reply.addEventListener('submit', (e) => {
              e.preventDefault();
              const body = values(reply).text(`reply-${i}`);
              if (!body) return showFieldErrors(ctx, [{ field: `reply-${i}`, message: 'Write your reply' }]);
              void busy(reply, async () => {
                try {
                  await send('POST', `${base}/posts/${encodeURIComponent(t.post.id)}/replies`, { create: true, body: { body } });
                  ctx.reload();
                } catch (err) {
                  showProblem(ctx, err);
                }
              });
            });
            const msg = (m: typeof t.post) =>
              h('div', null, h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-1' }, h('strong', null, m.author_name), `, ${date(m.created_at, true)}${m.source === 'email' ? ' (by email)' : ''}`), paragraphs(m.body));
            return h(
              'li',
              null,
              h('article', { class: 'nhsuk-card' }, h(
                'div',
                { class: 'nhsuk-card__content' },
                msg(t.post),
                t.replies.length ? h('ul', { class: 'nhsuk-list qnet-replies', 'aria-label': `Replies to ${t.post.author_name}` }, t.replies.map((r) => h('li', null, msg(r)))) : '',
                reply,
              )),
            );
          }),
        )
      : h('p', null, 'No posts yet.'),
    post,
  );
  initCounts(ctx.main);
}
