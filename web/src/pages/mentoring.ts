import { getJson } from '../api/client';
import type { MentorView, MentoringRequestList, MyMentees, MenteeView } from '../api/types';
import { currentSession } from '../auth';
import { date, h, link, tag } from '../dom';
import type { PageContext } from '../router';
import { heading, topicNames } from '../ui/common';
import { ApiError } from '../api/client';

export const REQUEST_STATES: Record<string, [string, string]> = {
  open: ['Looking for a mentor', 'blue'],
  proposed: ['Mentor asked', 'yellow'],
  active: ['Paired', 'green'],
  closed: ['Closed', 'grey'],
  withdrawn: ['Withdrawn', 'grey'],
};

async function mentorProfile(): Promise<MentorView | null> {
  try {
    return await getJson<MentorView>('/me/mentor');
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

function menteeRow(m: MenteeView, names: Map<string, string>, offered: boolean): HTMLElement {
  const r = m.request;
  return h(
    'li',
    null,
    h('div', { class: 'nhsuk-card' }, h(
      'div',
      { class: 'nhsuk-card__content' },
      h('h3', { class: 'nhsuk-card__heading nhsuk-heading-s' }, `${m.mentee_name ?? 'A member who has left'}${m.mentee_organisation ? `, ${m.mentee_organisation}` : ''}`),
      h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-1' }, `${r.kind === 'coaching' ? 'Coaching' : 'Mentoring'} on ${r.topics.map((t) => names.get(t) ?? t).join(', ')}`),
      h('p', { class: 'qnet-prewrap' }, r.goals),
      offered
        ? h('p', { class: 'nhsuk-body-s' }, `Answer from the link in the email we sent you${r.proposal ? `, by ${date(r.proposal.expires_at, true)}` : ''}.`)
        : h('p', { class: 'nhsuk-body-s' }, `Paired since ${date(r.pairing?.started_at)}. `, link(`/mentoring/requests/${encodeURIComponent(r.id)}`, ['Close this pairing', h('span', { class: 'nhsuk-u-visually-hidden' }, ` with ${m.mentee_name ?? 'this mentee'}`)])),
    )),
  );
}

export default async function mentoring(ctx: PageContext): Promise<void> {
  heading(ctx, 'Mentoring and coaching');
  ctx.main.append(
    h('p', null, 'Experienced improvers across the system offer mentoring and coaching. Ask for help and Qnet proposes the mentor who suits you best; they get an email and can accept or decline.'),
  );
  if (!currentSession()) {
    ctx.main.append(h('p', null, link('/sign-in?return=/mentoring', 'Sign in'), ' to take part.'));
    return;
  }
  const [requests, profile, mine, names] = await Promise.all([
    getJson<MentoringRequestList>('/me/mentoring-requests', { limit: 20 }),
    mentorProfile(),
    getJson<MyMentees>('/me/mentees'),
    topicNames(),
  ]);
  ctx.main.append(
    h('h2', null, 'Find a mentor'),
    requests.items.length
      ? h(
          'ul',
          { class: 'nhsuk-list', 'aria-label': 'Your requests' },
          requests.items.map((r) => {
            const [text, colour] = REQUEST_STATES[r.state] ?? [r.state, 'grey'];
            return h('li', null, link(`/mentoring/requests/${encodeURIComponent(r.id)}`, `${r.kind === 'coaching' ? 'Coaching' : 'Mentoring'} on ${r.topics.map((t) => names.get(t) ?? t).join(', ')}, asked ${date(r.created_at)}`), ' ', tag(text, colour));
          }),
        )
      : h('p', null, 'You have not asked for a mentor yet.'),
    h('p', null, link('/mentoring/ask', 'Ask for a mentor or coach', 'nhsuk-button')),
    h('h2', null, 'Offer to mentor or coach'),
    profile
      ? h('p', null, `You offer ${profile.offers.join(' and ')}: ${profile.accepting ? `accepting new mentees, ${profile.free_places} of ${profile.capacity} places free` : 'paused, not accepting new mentees'}. `, link('/mentoring/offer', 'Change your mentor profile'))
      : h('p', null, link('/mentoring/offer', 'Offer to mentor or coach')),
    profile || mine.offered.length || mine.current.length
      ? h(
          'div',
          null,
          h('h2', null, 'Requests offered to you'),
          mine.offered.length ? h('ul', { class: 'nhsuk-list' }, mine.offered.map((m) => menteeRow(m, names, true))) : h('p', null, 'No requests are waiting for your answer.'),
          h('h2', null, 'Your mentees'),
          mine.current.length ? h('ul', { class: 'nhsuk-list' }, mine.current.map((m) => menteeRow(m, names, false))) : h('p', null, 'You have no mentees at the moment.'),
        )
      : '',
    h('h2', null, 'Randomised coffee'),
    h('p', null, 'Each week Qnet pairs people who opted in with someone from another organisation for a chat. ', link('/mentoring/coffee', 'Your coffee pairings')),
  );
}
