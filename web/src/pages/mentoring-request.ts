import { ApiError, getJson, remove, send } from '../api/client';
import type { MatchList, MemberView, MentoringRequestView } from '../api/types';
import { date, h, link, summaryList, tag } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading, insetText, topicNames } from '../ui/common';
import { showProblem } from '../ui/errors';
import { busy, button, initCounts, textarea, values } from '../ui/forms';
import { REQUEST_STATES } from './mentoring';

function reasons(list: string[]): HTMLElement {
  return h('ul', { class: 'nhsuk-list nhsuk-list--bullet' }, list.map((r) => h('li', null, r)));
}

export default async function mentoringRequest(ctx: PageContext): Promise<void> {
  const id = ctx.params['id']!;
  const path = `/mentoring-requests/${encodeURIComponent(id)}`;
  const [r, names, who] = await Promise.all([getJson<MentoringRequestView>(path), topicNames(), getJson<MemberView>('/me')]);
  const me = who.id;
  const mine = r.member_id === me;
  let matches: MatchList | null = null;
  if (mine && (r.state === 'open' || r.state === 'proposed')) {
    try {
      matches = await getJson<MatchList>(`${path}/matches`);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 403)) throw e;
    }
  }
  ctx.main.append(backLink('/mentoring', 'Mentoring and coaching'));
  heading(ctx, r.kind === 'coaching' ? 'Your coaching request' : 'Your mentoring request', mine ? undefined : 'A request paired with you');
  if (!mine) document.title = 'Mentoring request - Qnet';
  const [stateText, colour] = REQUEST_STATES[r.state] ?? [r.state, 'grey'];
  ctx.main.append(
    summaryList([
      ['Status', tag(stateText, colour)],
      ['Topics', r.topics.map((t) => names.get(t) ?? t).join(', ')],
      ['Asked', date(r.created_at)],
    ]),
    h('h2', null, 'Goals'),
    h('p', { class: 'qnet-prewrap' }, r.goals),
  );
  if (r.state === 'open') {
    ctx.main.append(insetText(r.unmatched_reason ?? 'Nobody suits this request yet. Qnet looks again every day and emails you when it proposes someone.'));
  }
  if (r.state === 'proposed' && r.proposal) {
    const p = r.proposal;
    const decline = h('form', { method: 'post' }, button(`Decline ${p.mentor_name ?? 'this mentor'}`, { variant: 'secondary' }));
    decline.addEventListener('submit', (e) => {
      e.preventDefault();
      void busy(decline, async () => {
        try {
          await send('POST', `${path}/decline-proposal`, { body: { mentor_id: p.mentor_id } });
          ctx.reload();
        } catch (err) {
          showProblem(ctx, err);
        }
      });
    });
    ctx.main.append(
      h('h2', null, 'Your proposed mentor'),
      h('p', null, h('strong', null, p.mentor_name ?? 'A mentor'), ` has been asked and has until ${date(p.expires_at, true)} to accept. You will get an email introducing you when they do.`),
      h('p', null, 'Why we proposed them:'),
      reasons(p.reasons),
      mine ? decline : '',
    );
  }
  if (matches) {
    ctx.main.append(
      h('h2', null, 'Mentors who suit your request'),
      matches.items.length
        ? h(
            'ol',
            { class: 'nhsuk-list nhsuk-list--number' },
            matches.items.map((m) => h('li', null, h('strong', null, m.name), m.organisation ? `, ${m.organisation}` : '', reasons(m.reasons))),
          )
        : h('p', null, 'No other mentors suit this request at the moment.'),
    );
  }
  if (r.pairing) {
    const pr = r.pairing;
    ctx.main.append(
      h('h2', null, 'Pairing'),
      summaryList([
        ['Mentor', pr.mentor_name ?? 'A mentor'],
        ['Started', date(pr.started_at)],
        ...(pr.closed_at ? ([['Closed', date(pr.closed_at)]] as [string, string][]) : []),
      ]),
    );
    if (r.state === 'active' && (mine || pr.mentor_id === me)) {
      const close = h(
        'form',
        { method: 'post', novalidate: true },
        textarea({ field: 'feedback', label: 'Feedback (optional)', hint: 'How did it go? Your feedback helps us match people well.', maxlength: 4000, rows: 4 }),
        button('Close the pairing', { variant: 'secondary' }),
      );
      close.addEventListener('submit', (e) => {
        e.preventDefault();
        const feedback = values(close).text('feedback');
        void busy(close, async () => {
          try {
            await send('POST', `/mentoring-pairings/${encodeURIComponent(r.id)}/close`, { body: { feedback: feedback || null } });
            ctx.reload();
          } catch (err) {
            showProblem(ctx, err, { feedback: 'Feedback' });
          }
        });
      });
      ctx.main.append(h('h3', null, 'Close the pairing'), close);
      initCounts(close);
    }
  }
  if (mine && (r.state === 'open' || r.state === 'proposed')) {
    const withdraw = h('form', { method: 'post' }, button('Withdraw this request', { variant: 'warning' }));
    withdraw.addEventListener('submit', (e) => {
      e.preventDefault();
      void busy(withdraw, async () => {
        try {
          await remove(path);
          ctx.reload();
        } catch (err) {
          showProblem(ctx, err);
        }
      });
    });
    ctx.main.append(h('h2', null, 'No longer need help?'), withdraw);
  }
  ctx.main.append(h('p', null, link('/mentoring', 'Back to mentoring and coaching')));
}
