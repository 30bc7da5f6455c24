import { getJson, send } from '../api/client';
import type { CaseStudyView, ResourceView } from '../api/types';
import { h, link, summaryList } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading, insetText, statusTag, topicNames } from '../ui/common';
import { showFieldErrors, showProblem } from '../ui/errors';
import { busy, button, buttonGroup, initCounts, textarea, values } from '../ui/forms';
import { caseStudyBody } from './case-study';
import { resourceBody } from './resource';

type Record = CaseStudyView | ResourceView;

export default async function review(ctx: PageContext): Promise<void> {
  const kind = ctx.params['kind'];
  if (kind !== 'case-studies' && kind !== 'resources') {
    const nf = await import('./not-found');
    return nf.default(ctx);
  }
  const id = ctx.params['id']!;
  const base = `/${kind}/${encodeURIComponent(id)}`;
  const [rec, names] = await Promise.all([getJson<Record>(base), topicNames()]);
  const noun = kind === 'case-studies' ? 'case study' : 'resource';
  ctx.main.append(backLink('/moderation', 'Back to moderation'));
  heading(ctx, rec.title, `Review ${noun}`);
  const done = ctx.query.get('done');
  if (done) {
    ctx.main.append(insetText(h('p', { role: 'status' }, done === 'published' ? `The ${noun} is published.` : done === 'rejected' ? `The ${noun} is rejected; the submitter has been told why.` : 'The hold is released.')));
  }
  ctx.main.append(
    summaryList([
      ['Status', statusTag(rec.status, rec.hold)],
      ['Submitted by', [rec.submitted_by.name, rec.submitted_by.job_title, rec.submitted_by.email].filter(Boolean).join(', ') || 'Not known'],
      ['Version', String(rec.version)],
    ]),
  );
  if (rec.hold) {
    ctx.main.append(
      h(
        'div',
        { class: 'nhsuk-warning-callout' },
        h('h2', { class: 'nhsuk-warning-callout__label' }, h('span', { role: 'text' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Important: '), 'Held')),
        h('p', null, rec.hold.reason),
        h('p', null, 'Edit the personal data out of the submission, then release the hold. Earlier versions are deleted when you do.'),
      ),
    );
  }
  if (rec.rejection_reason) ctx.main.append(insetText(h('p', null, `Rejected: ${rec.rejection_reason}`)));

  const act = (action: 'publish' | 'release-hold', doneWord: string) => async (e: Event) => {
    const b = e.currentTarget as HTMLButtonElement;
    b.setAttribute('aria-disabled', 'true');
    try {
      await send('POST', `${base}/${action}`, { ifMatch: rec.version });
      ctx.navigate(`/moderation/${kind}/${encodeURIComponent(id)}?done=${doneWord}`, { replace: true });
    } catch (err) {
      showProblem(ctx, err);
    } finally {
      b.removeAttribute('aria-disabled');
    }
  };

  if (rec.status === 'pending') {
    const rejectForm = h(
      'form',
      { method: 'post', novalidate: true, hidden: true },
      textarea({ field: 'reason', label: 'Why are you rejecting it?', hint: 'The submitter sees this, so say what they could change.', rows: 4, maxlength: 2000 }),
      button('Confirm rejection', { variant: 'warning' }),
    );
    rejectForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const reason = values(rejectForm).text('reason');
      if (!reason) {
        showFieldErrors(ctx, [{ field: 'reason', message: 'Enter why you are rejecting it' }]);
        return;
      }
      void busy(rejectForm, async () => {
        try {
          await send('POST', `${base}/reject`, { body: { reason }, ifMatch: rec.version });
          ctx.navigate(`/moderation/${kind}/${encodeURIComponent(id)}?done=rejected`, { replace: true });
        } catch (err) {
          showProblem(ctx, err, { reason: 'Reason' });
        }
      });
    });
    const actions = buttonGroup(
      rec.hold ? button('Release hold', { type: 'button', onclick: act('release-hold', 'released') }) : button('Publish', { type: 'button', onclick: act('publish', 'published') }),
      button('Reject', {
        type: 'button',
        variant: 'secondary',
        onclick: () => {
          rejectForm.hidden = false;
          (rejectForm.querySelector('textarea') as HTMLTextAreaElement).focus();
        },
      }),
    );
    if (kind === 'case-studies') ctx.main.append(h('p', null, link(`/case-studies/${encodeURIComponent(id)}/edit`, 'Edit the submission')));
    ctx.main.append(actions, rejectForm);
    initCounts(rejectForm);
  }
  ctx.main.append(h('h2', null, `The ${noun}`));
  if (kind === 'case-studies') ctx.main.append(...caseStudyBody(rec as CaseStudyView, names).map((el) => demote(el)));
  else ctx.main.append(...resourceBody(rec as ResourceView, names));
  ctx.main.append(h('p', null, link(`/${kind}/${encodeURIComponent(id)}`, `Open the ${noun}'s own page`)));
}

/** Section headings one level down under the review page's own h2. */
function demote(el: HTMLElement): HTMLElement {
  for (const h2 of Array.from(el.querySelectorAll('h2'))) {
    const h3 = h('h3', null, ...Array.from(h2.childNodes));
    h2.replaceWith(h3);
  }
  if (el.tagName === 'H2') return h('h3', null, ...Array.from(el.childNodes));
  return el;
}
