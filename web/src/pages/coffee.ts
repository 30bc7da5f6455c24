import { getJson, send } from '../api/client';
import type { MemberView, MyCoffee, MyCoffeeRound } from '../api/types';
import { date, h, link, paragraphs } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading, insetText } from '../ui/common';
import { showProblem } from '../ui/errors';
import { busy, button } from '../ui/forms';

function who(r: MyCoffeeRound): string {
  return r.partners.map((p) => `${p.name}${p.organisation ? ` from ${p.organisation}` : ''}`).join(' and ') || 'Nobody (your partner has left Qnet)';
}

export default async function coffee(ctx: PageContext): Promise<void> {
  const [mine, me] = await Promise.all([getJson<MyCoffee>('/me/coffee'), getJson<MemberView>('/me')]);
  ctx.main.append(backLink('/mentoring', 'Mentoring and coaching'));
  heading(ctx, 'Randomised coffee');
  ctx.main.append(h('p', null, 'Each week Qnet pairs people who opted in with someone from another organisation, and introduces you by email. Find half an hour for a coffee, in person or online.'));
  const toggle = h('form', { method: 'post' }, button(mine.opt_in ? 'Stop pairing me for coffee' : 'Pair me for coffee each week', { variant: mine.opt_in ? 'secondary' : undefined }));
  toggle.addEventListener('submit', (e) => {
    e.preventDefault();
    void busy(toggle, async () => {
      try {
        await send('PATCH', '/me', { body: { coffee: { opt_in: !mine.opt_in } }, ifMatch: me.version });
        ctx.reload();
      } catch (err) {
        showProblem(ctx, err);
      }
    });
  });
  ctx.main.append(
    h('p', null, mine.opt_in ? 'You are in the pool for each new round.' : 'You are not being paired for coffee.'),
    toggle,
    h('h2', null, `This week (${mine.round})`),
  );
  const w = mine.this_week;
  if (w) {
    ctx.main.append(
      h('p', null, 'You are paired with ', h('strong', null, who(w)), '.'),
      w.partners.length ? h('ul', { class: 'nhsuk-list' }, w.partners.map((p) => h('li', null, `${p.name}: `, link(`mailto:${p.email}`, p.email)))) : '',
      w.introduced_at && w.introduction
        ? h('div', null, h('h3', null, `The introduction we emailed you on ${date(w.introduced_at)}`), h('div', { class: 'nhsuk-inset-text' }, paragraphs(w.introduction)))
        : h('p', null, 'Your introduction email has not been sent yet.'),
    );
  } else {
    ctx.main.append(insetText(mine.opt_in ? 'This week’s pairs have not been drawn yet, or there was nobody to pair you with. We will email you when you are paired.' : 'Opt in to be paired from the next round.'));
  }
  ctx.main.append(h('h2', null, 'Past rounds'));
  ctx.main.append(
    mine.past.length
      ? h('ul', { class: 'nhsuk-list' }, mine.past.map((r) => h('li', null, `${r.round}: ${who(r)}`)))
      : h('p', null, 'No past rounds in the last 12 weeks.'),
  );
}
