// Reported questions, answers and adoption notes, for moderators: open reports, newest first.
// Removing the text closes its reports; dismissing closes the report and keeps the text.

import { getJson, remove, send } from '../api/client';
import type { Report, ReportList } from '../api/types';
import { date, h, link, paragraphs } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading } from '../ui/common';
import { showProblem } from '../ui/errors';
import { buttonGroup } from '../ui/forms';

/** What the last action did, shown once after the list reloads. */
let flash: string | null = null;

function what(r: Report): string {
  return r.kind === 'question' ? 'Question' : r.kind === 'answer' ? 'Answer' : 'Adoption note';
}

/** Where the reported text lives, the path that removes it, and the link to read it in place. */
function places(r: Report): { remove: string; open: string; openText: string } {
  if (r.kind === 'adoption') {
    const cs = `/case-studies/${encodeURIComponent(r.case_study_id ?? '')}`;
    return { remove: `${cs}/adoptions/${encodeURIComponent(r.adopter_id ?? '')}`, open: cs, openText: 'Open the case study' };
  }
  const q = `/questions/${encodeURIComponent(r.question_id ?? '')}`;
  return { remove: r.answer_id ? `${q}/answers/${encodeURIComponent(r.answer_id)}` : q, open: q, openText: 'Open the question' };
}

export default async function reports(ctx: PageContext): Promise<void> {
  const list = await getJson<ReportList>('/moderation/reports');
  ctx.main.append(backLink('/moderation', 'Back to moderation'));
  heading(ctx, 'Reports');
  if (flash) {
    ctx.alerts.replaceChildren(h('div', { class: 'nhsuk-inset-text', role: 'status' }, h('p', null, flash)));
    flash = null;
  }
  ctx.main.append(h('p', null, 'Questions, answers and adoption notes members have reported, newest first. Remove what breaks the rules (its answers go with a question), or dismiss the report to keep the text.'));
  if (!list.items.length) {
    ctx.main.append(h('p', null, 'There are no open reports.'));
    return;
  }
  const act = (f: () => Promise<void>, text: string) => async (e: Event) => {
    const b = e.currentTarget as HTMLButtonElement;
    b.setAttribute('aria-disabled', 'true');
    try {
      await f();
      flash = text;
      ctx.reload();
    } catch (err) {
      showProblem(ctx, err);
    } finally {
      b.removeAttribute('aria-disabled');
    }
  };
  ctx.main.append(
    h(
      'ul',
      { class: 'nhsuk-list', 'aria-label': 'Open reports' },
      list.items.map((r) => {
        const { remove: path, open, openText } = places(r);
        const noun = r.kind === 'adoption' ? 'adoption' : r.kind;
        const context = ` the ${noun} from ${r.author.name}`;
        const headingId = `report-${r.id}`;
        return h(
          'li',
          null,
          h(
            'article',
            { class: 'nhsuk-card', 'aria-labelledby': headingId },
            h(
              'div',
              { class: 'nhsuk-card__content' },
              h('h2', { class: 'nhsuk-heading-s nhsuk-u-margin-bottom-1', id: headingId }, `${what(r)} from ${r.author.name} on ${r.target_title}`),
              h('p', { class: 'nhsuk-body-s' }, `Reported ${date(r.reported_at, true)}`, r.report_count > 1 ? `, by ${r.report_count} members` : ''),
              h('div', { class: 'nhsuk-inset-text nhsuk-u-margin-top-0' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'What they wrote: '), paragraphs(r.text)),
              h('h3', { class: 'nhsuk-heading-xs nhsuk-u-margin-bottom-1' }, r.reasons.length === 1 ? 'Reason given' : 'Reasons given'),
              h('ul', { class: 'nhsuk-list nhsuk-list--bullet' }, r.reasons.map((reason) => h('li', { class: 'qnet-prewrap' }, reason))),
              h('p', null, link(open, openText), h('span', { class: 'nhsuk-u-visually-hidden' }, ` for${context}`)),
              buttonGroup(
                h('button', { class: 'nhsuk-button nhsuk-button--warning nhsuk-button--small', type: 'button', onclick: act(() => remove(path), `The ${noun} is removed and its reports are closed.`) }, 'Remove', h('span', { class: 'nhsuk-u-visually-hidden' }, context)),
                h('button', { class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small', type: 'button', onclick: act(() => send('POST', `/moderation/reports/${encodeURIComponent(r.id)}/dismiss`), 'The report is dismissed; the text stays.') }, 'Dismiss', h('span', { class: 'nhsuk-u-visually-hidden' }, ` the report on${context}`)),
              ),
            ),
          ),
        );
      }),
    ),
  );
}
