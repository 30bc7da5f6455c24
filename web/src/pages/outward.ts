// Sharing successes outward (issue 22) on a published case study: the link to
// share (its preview in Teams, Slack and LinkedIn comes from the API's share
// page), the topic feeds, and, for moderators, making it a highlight.

import { apiUrl, call, getJson } from '../api/client';
import type { CaseStudyList, CaseStudyView } from '../api/types';
import { hasRole } from '../auth';
import { h } from '../dom';
import type { PageContext } from '../router';
import { topicNames } from '../ui/common';
import { showProblem } from '../ui/errors';
import { busy, button } from '../ui/forms';

export async function shareSection(ctx: PageContext, cs: CaseStudyView): Promise<HTMLElement> {
  const names = await topicNames();
  const shareUrl = apiUrl(`/share/case-studies/${encodeURIComponent(cs.id)}`);
  const copied = h('p', { class: 'nhsuk-body-s', role: 'status', 'aria-live': 'polite' });
  const copy = button('Copy the link', { type: 'button', variant: 'secondary', small: true, onclick: () => {
    void navigator.clipboard?.writeText(shareUrl).then(
      () => { copied.textContent = 'The link is copied.'; },
      () => { copied.textContent = 'Select the link and copy it.'; },
    );
  } });
  const section = h(
    'section',
    { 'aria-labelledby': 'share-heading' },
    h('h2', { id: 'share-heading' }, 'Share this case study'),
    h(
      'div',
      { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'share-link' }, 'Link to share'),
      h('div', { class: 'nhsuk-hint', id: 'share-link-hint' }, 'In Teams, Slack or LinkedIn it shows the title, summary and organisation.'),
      h('input', { class: 'nhsuk-input', id: 'share-link', type: 'text', readonly: true, value: shareUrl, 'aria-describedby': 'share-link-hint' }),
    ),
    copy,
    copied,
    h(
      'p',
      null,
      'Follow new case studies in a feed reader: ',
      h('a', { class: 'nhsuk-link', href: apiUrl('/feeds/case-studies.atom'), 'data-external': '' }, 'all case studies (Atom feed)'),
      ...cs.topics.slice(0, 3).flatMap((t) => [', ', h('a', { class: 'nhsuk-link', href: apiUrl(`/feeds/topics/${encodeURIComponent(t)}/case-studies.atom`), 'data-external': '' }, `${names.get(t) ?? t} (Atom feed)`)]),
    ),
  );
  if (hasRole('moderator')) {
    const highlights = await getJson<CaseStudyList>('/case-studies/highlights', { limit: 100 });
    const on = highlights.items.some((i) => i.id === cs.id);
    const form = h(
      'form',
      { method: 'post' },
      h('p', null, on ? 'This case study is a highlight: it leads the home page and opens the digest.' : 'Highlights lead the home page and open the digest.'),
      button(on ? 'Remove from highlights' : 'Make this a highlight', { variant: 'secondary' }),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void busy(form, async () => {
        try {
          await call(on ? 'DELETE' : 'PUT', `/case-studies/${encodeURIComponent(cs.id)}/highlight`);
          ctx.reload();
        } catch (err) {
          showProblem(ctx, err);
        }
      });
    });
    section.append(form);
  }
  return section;
}
