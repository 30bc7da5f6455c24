// One question, its answers and the answer form: where the emails about a
// question link to. Signed-out visitors read it and are asked to sign in to answer.

import { ApiError, getJson } from '../api/client';
import type { Question } from '../api/types';
import { h, link } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading } from '../ui/common';
import { initCounts } from '../ui/forms';
import { flashOnTarget, questionItem, targetHref, targetNoun, viewer } from '../ui/questions';

/** What the last change on this page did, shown once after it re-renders. */
let flash: { question: string; text: string } | null = null;

export default async function question(ctx: PageContext): Promise<void> {
  const id = ctx.params['id']!;
  let q: Question;
  try {
    q = await getJson<Question>(`/questions/${encodeURIComponent(id)}`);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
    // An email's link outlives the question: say so rather than "Page not found".
    heading(ctx, 'This question is not available');
    ctx.main.append(
      h('p', null, 'The person who asked it, or a moderator, may have removed it, or you may need to sign in to see what it is about.'),
      h('p', null, link('/case-studies', 'Browse case studies'), ' or ', link('/resources', 'browse resources'), '.'),
    );
    return;
  }
  const who = await viewer();
  const back = targetHref(q);
  ctx.main.append(backLink(back, `Back to the ${targetNoun(q)}`));
  heading(ctx, `Question about ${q.target.title}`);
  if (flash && flash.question === q.id) {
    ctx.alerts.replaceChildren(h('div', { class: 'nhsuk-inset-text', role: 'status' }, h('p', null, flash.text)));
    flash = null;
  }
  ctx.main.append(
    h('p', null, `Asked about the ${targetNoun(q)} `, link(back, q.target.title), '.'),
    questionItem(
      ctx,
      q,
      who,
      {
        changed: (text) => {
          flash = { question: q.id, text };
          ctx.reload();
        },
        removed: () => {
          flashOnTarget(q, 'The question is removed.');
          ctx.navigate(back, { replace: true });
        },
      },
      true,
    ),
  );
  initCounts(ctx.main);
}
