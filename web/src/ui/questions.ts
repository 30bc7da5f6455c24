// Questions and comments, answers, reports and "This helped me" (issue 21):
// the parts the case study, resource and question pages share.

import { ApiError, getJson, remove, send } from '../api/client';
import type { Answer, MemberView, Question, QuestionList, Thanks } from '../api/types';
import { currentSession, hasRole } from '../auth';
import { append, clear, date, h, link, paragraphs, tag, type Child } from '../dom';
import type { PageContext } from '../router';
import { clearErrors, showFieldErrors, showProblem } from './errors';
import { busy, button, buttonGroup, initCounts, textarea, values } from './forms';

/** Who is reading: their member id (signed in) and whether they moderate. */
export interface Viewer {
  id: string | null;
  moderator: boolean;
}

export async function viewer(): Promise<Viewer> {
  if (!currentSession()) return { id: null, moderator: false };
  const me = await getJson<MemberView>('/me');
  return { id: me.id, moderator: hasRole('moderator') };
}

/** The page a question is about. */
export function targetHref(q: Question): string {
  return `/${q.target.kind === 'case_study' ? 'case-studies' : 'resources'}/${encodeURIComponent(q.target.id)}`;
}

export function targetNoun(q: Question): string {
  return q.target.kind === 'case_study' ? 'case study' : 'resource';
}

/** A message for the next render of a questions section (after leaving a question page). */
let flash: { target: string; text: string } | null = null;
export function flashOnTarget(q: Question, text: string): void {
  flash = { target: q.target.id, text };
}

function signInHref(): string {
  return `/sign-in?return=${encodeURIComponent(location.pathname + location.search)}`;
}

function hidden(text: string): HTMLElement {
  return h('span', { class: 'nhsuk-u-visually-hidden' }, text);
}

function statusNote(text: string): HTMLElement {
  return h('div', { class: 'nhsuk-inset-text', role: 'status', tabindex: '-1' }, h('p', null, text));
}

/** The API names the text `body` (or `reason`); on the page each form's field has its own id. */
export function showProblemOn(ctx: PageContext, err: unknown, field: string, label: string): void {
  if (err instanceof ApiError && err.problem && err.problem.errors.length) {
    const errors = err.problem.errors.map((e) => (e.field === 'body' || e.field === 'reason' ? { ...e, field } : e));
    err = new ApiError(err.status, { ...err.problem, errors }, err.retryAfter);
  }
  showProblem(ctx, err, { [field]: label });
}

function byLine(who: string, when: string, extra?: Child): HTMLElement {
  return h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-2' }, h('strong', null, who), `, ${date(when, true)}`, extra ?? null);
}

/** A button that shows and hides a region below it (answer, report, remove). */
function toggle(text: string, context: string, region: HTMLElement, variant: 'secondary' | 'warning' = 'secondary'): HTMLButtonElement {
  const b = h('button', { class: `nhsuk-button nhsuk-button--${variant} nhsuk-button--small nhsuk-u-margin-bottom-2`, type: 'button', 'aria-expanded': 'false', 'aria-controls': region.id }, text, hidden(` ${context}`));
  b.addEventListener('click', () => {
    const open = region.hidden;
    region.hidden = !open;
    b.setAttribute('aria-expanded', String(open));
    if (open) region.querySelector<HTMLElement>('textarea, button')?.focus();
  });
  return b;
}

interface ItemHooks {
  /** After something changed: re-render, then say `text`. */
  changed(text: string): void | Promise<void>;
  /** The question itself was removed. */
  removed(): void;
}

/** The "Report" button and its form, for a question, an answer or an adoption's note. */
export function reportParts(ctx: PageContext, o: { path: string; key: string; context: string }): [HTMLElement, HTMLElement] {
  const field = `report-${o.key}`;
  const region = h('div', { id: `report-region-${o.key}`, hidden: true });
  const form = h(
    'form',
    { method: 'post', novalidate: true },
    textarea({ field, label: 'Why are you reporting this?', hint: 'A moderator reads every report. Say what is wrong, for example it is unkind, untrue or could identify a patient.', rows: 3, maxlength: 500 }),
    button('Send report', { variant: 'secondary', small: true }),
  );
  region.append(form);
  const open = toggle('Report', o.context, region);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const reason = values(form).text(field);
    if (!reason) return showFieldErrors(ctx, [{ field, message: 'Enter why you are reporting this' }]);
    void busy(form, async () => {
      try {
        await send('POST', `${o.path}/reports`, { body: { reason } });
        clearErrors(ctx);
        const note = statusNote('Thank you. A moderator will look at your report.');
        region.replaceChildren(note);
        open.remove();
        note.focus();
      } catch (err) {
        showProblemOn(ctx, err, field, 'Why are you reporting this?');
      }
    });
  });
  return [open, region];
}

/** The "Remove" button and its confirmation. */
function removeParts(ctx: PageContext, o: { path: string; key: string; context: string; question: string; done(): void }): [HTMLElement, HTMLElement] {
  const region = h('div', { id: `remove-region-${o.key}`, class: 'nhsuk-u-margin-bottom-3', hidden: true });
  const open = toggle('Remove', o.context, region);
  region.append(
    h('p', null, o.question),
    buttonGroup(
      button('Yes, remove it', {
        type: 'button',
        variant: 'warning',
        small: true,
        onclick: async (e) => {
          const b = e.currentTarget as HTMLButtonElement;
          b.setAttribute('aria-disabled', 'true');
          try {
            await remove(o.path);
            o.done();
          } catch (err) {
            showProblem(ctx, err);
          } finally {
            b.removeAttribute('aria-disabled');
          }
        },
      }),
      button('Cancel', {
        type: 'button',
        variant: 'secondary',
        small: true,
        onclick: () => {
          region.hidden = true;
          open.setAttribute('aria-expanded', 'false');
          open.focus();
        },
      }),
    ),
  );
  return [open, region];
}

function answerItem(ctx: PageContext, q: Question, a: Answer, who: Viewer, hooks: ItemHooks): HTMLElement {
  const path = `/questions/${encodeURIComponent(q.id)}/answers/${encodeURIComponent(a.id)}`;
  const context = `the answer from ${a.author.name}`;
  const actions: HTMLElement[] = [];
  const regions: HTMLElement[] = [];
  if (a.can_remove) {
    const [b, r] = removeParts(ctx, { path, key: a.id, context, question: 'Remove this answer? This cannot be undone.', done: () => void hooks.changed('The answer is removed.') });
    actions.push(b);
    regions.push(r);
  }
  if (who.id && a.author.id !== who.id) {
    const [b, r] = reportParts(ctx, { path, key: a.id, context });
    actions.push(b);
    regions.push(r);
  }
  return h(
    'li',
    null,
    byLine(a.author.name, a.created_at, a.source === 'email' ? ' (by email)' : null),
    paragraphs(a.body),
    actions.length ? h('div', { class: 'qnet-actions' }, actions) : null,
    regions,
  );
}

/** The answer form: inline on a list (shown with a toggle) or open on the question page. */
function answerForm(ctx: PageContext, q: Question, hooks: ItemHooks): HTMLFormElement {
  const field = `answer-${q.id}`;
  const form = h(
    'form',
    { method: 'post', novalidate: true },
    textarea({ field, label: 'Your answer', hint: 'Do not include anything that could identify a patient.', rows: 4, maxlength: 2000 }),
    button('Post answer', { variant: 'secondary' }),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = values(form).text(field);
    if (!body) return showFieldErrors(ctx, [{ field, message: 'Write your answer' }]);
    void busy(form, async () => {
      try {
        await send('POST', `/questions/${encodeURIComponent(q.id)}/answers`, { create: true, body: { body } });
        await hooks.changed('Your answer is posted.');
      } catch (err) {
        showProblemOn(ctx, err, field, 'Your answer');
      }
    });
  });
  return form;
}

/**
 * One question with its answers. In a list (`standalone` false) it is a card
 * with an h3 and an "Answer" toggle; on its own page the answers sit under an h2
 * and the answer form is open.
 */
export function questionItem(ctx: PageContext, q: Question, who: Viewer, hooks: ItemHooks, standalone = false): HTMLElement {
  const path = `/questions/${encodeURIComponent(q.id)}`;
  const context = `the question from ${q.author.name}`;
  const headingId = `question-${q.id}`;
  const actions: HTMLElement[] = [];
  const regions: HTMLElement[] = [];
  if (!standalone && q.can_answer) {
    const region = h('div', { id: `answer-region-${q.id}`, hidden: true }, answerForm(ctx, q, hooks));
    actions.push(toggle('Answer', context, region));
    regions.push(region);
  }
  if (q.can_remove) {
    const [b, r] = removeParts(ctx, { path, key: q.id, context, question: 'Remove this question and its answers? This cannot be undone.', done: hooks.removed });
    actions.push(b);
    regions.push(r);
  }
  if (who.id && q.author.id !== who.id) {
    const [b, r] = reportParts(ctx, { path, key: q.id, context });
    actions.push(b);
    regions.push(r);
  }
  const answers = q.answers.length
    ? h('ul', { class: 'nhsuk-list qnet-replies', 'aria-label': `Answers to ${q.author.name}` }, q.answers.map((a) => answerItem(ctx, q, a, who, hooks)))
    : null;
  const head = standalone
    ? h('h2', { id: headingId, class: 'nhsuk-heading-s nhsuk-u-margin-bottom-1', tabindex: '-1' }, `${q.author.name} asked`)
    : h('h3', { id: headingId, class: 'nhsuk-heading-s nhsuk-u-margin-bottom-1', tabindex: '-1' }, `Question from ${q.author.name}`);
  const card = h(
    'article',
    { class: 'nhsuk-card nhsuk-u-margin-bottom-4', 'aria-labelledby': headingId },
    h(
      'div',
      { class: 'nhsuk-card__content' },
      head,
      h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-2' }, date(q.created_at, true), ' ', q.answered ? tag('Answered', 'green') : tag('Not answered yet', 'grey')),
      paragraphs(q.body),
      actions.length ? h('div', { class: 'qnet-actions' }, actions) : null,
      regions,
      standalone
        ? null
        : [
            answers ? h('h4', { class: 'nhsuk-heading-xs nhsuk-u-margin-bottom-2' }, q.answers.length === 1 ? '1 answer' : `${q.answers.length} answers`) : null,
            answers,
            h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-0' }, link(path, 'Open this question', 'nhsuk-link'), hidden(` from ${q.author.name}`)),
          ],
    ),
  );
  if (!standalone) return card;
  return h(
    'div',
    null,
    card,
    h('h2', null, q.answers.length ? (q.answers.length === 1 ? '1 answer' : `${q.answers.length} answers`) : 'Answers'),
    answers ?? h('p', null, 'No one has answered yet.'),
    h('h2', null, 'Answer this question'),
    q.can_answer
      ? answerForm(ctx, q, hooks)
      : currentSession()
        ? h('p', null, 'You cannot answer this question.')
        : h('p', null, h('a', { class: 'nhsuk-link', href: signInHref() }, 'Sign in to answer')),
  );
}

/** The "Questions and comments" section of a published case study or resource. */
export async function questionsSection(ctx: PageContext, o: { base: string; targetId: string; who: Viewer }): Promise<HTMLElement> {
  const section = h('section', { id: 'questions', 'aria-labelledby': 'questions-heading' });
  const status = h('div');
  const list = h('div');
  const more = h('div');

  const render = async (note?: string, focusId?: string) => {
    const first = await getJson<QuestionList>(`${o.base}/questions`, { limit: 50 });
    const hooks: ItemHooks = {
      changed: (text) => render(text),
      removed: () => void render('The question is removed.'),
    };
    const items = (qs: Question[]) => qs.map((q) => h('li', null, questionItem(ctx, q, o.who, hooks)));
    list.replaceChildren(first.items.length ? h('ul', { class: 'nhsuk-list', 'aria-label': 'Questions and comments' }, items(first.items)) : h('p', null, 'No questions or comments yet.'));
    more.replaceChildren();
    let cursor = first.next_cursor;
    if (cursor) {
      const b = button('Show more questions', {
        type: 'button',
        variant: 'secondary',
        onclick: async () => {
          try {
            const page = await getJson<QuestionList>(`${o.base}/questions`, { limit: 50, cursor });
            list.querySelector('ul')?.append(...items(page.items));
            cursor = page.next_cursor;
            if (!cursor) b.remove();
          } catch (err) {
            showProblem(ctx, err);
          }
        },
      });
      more.append(b);
    }
    initCounts(list);
    status.replaceChildren();
    if (note) clearErrors(ctx);
    if (note) {
      const n = statusNote(note);
      status.append(n);
      const target = focusId ? document.getElementById(focusId) : null;
      (target ?? n).focus();
    }
  };

  const field = 'question';
  const ask = h(
    'form',
    { method: 'post', novalidate: true, 'aria-labelledby': 'ask-heading' },
    h('h3', { id: 'ask-heading' }, 'Ask a question or comment'),
    textarea({ field, label: 'Your question or comment', hint: 'The author and their team are told and can answer here or by email. Do not include anything that could identify a patient.', rows: 4, maxlength: 2000 }),
    button('Post'),
  );
  ask.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = values(ask).text(field);
    if (!body) return showFieldErrors(ctx, [{ field, message: 'Write your question or comment' }]);
    void busy(ask, async () => {
      try {
        const q = await send<Question>('POST', `${o.base}/questions`, { create: true, body: { body } });
        (ask.querySelector('textarea') as HTMLTextAreaElement).value = '';
        await render('Your question or comment is posted.', `question-${q.id}`);
        status.querySelector('[role="status"]')?.scrollIntoView({ block: 'nearest' });
      } catch (err) {
        showProblemOn(ctx, err, field, 'Your question or comment');
      }
    });
  });

  section.append(
    h('h2', { id: 'questions-heading' }, 'Questions and comments'),
    h('p', null, 'Ask the people who did this work, or add what you learned. Answers come from the author, their team and other members.'),
    status,
    list,
    more,
    o.who.id ? ask : h('p', null, h('a', { class: 'nhsuk-link', href: signInHref() }, 'Sign in to ask a question or comment')),
  );
  await render();
  if (flash && flash.target === o.targetId) {
    status.replaceChildren(statusNote(flash.text));
    flash = null;
  }
  initCounts(ask);
  return section;
}

export function thanksCount(n: number): string {
  if (n === 0) return 'No one has said this helped them yet.';
  return n === 1 ? '1 person found this helpful' : `${n} people found this helpful`;
}

function namesText(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** "This helped me" with the count; the author sees who chose to be named. */
export async function thanksSection(ctx: PageContext, o: { base: string; who: Viewer; isAuthor: boolean }): Promise<HTMLElement> {
  const section = h('section', { id: 'thanks', 'aria-labelledby': 'thanks-heading' });
  const render = (t: Thanks, note?: string) => {
    const parts: Child[] = [h('h2', { id: 'thanks-heading' }, o.isAuthor ? 'Readers this helped' : 'Did this help you?')];
    if (note) parts.push(h('div', { class: 'nhsuk-inset-text', role: 'status', tabindex: '-1' }, h('p', null, note)));
    parts.push(h('p', null, thanksCount(t.count)));
    if (t.names.length) parts.push(h('p', null, `Readers who chose to be named: ${namesText(t.names)}.`));
    if (o.isAuthor) {
      parts.push(h('p', { class: 'nhsuk-body-s' }, 'Readers can say this helped them, and choose each time whether you see their name.'));
    } else if (!o.who.id) {
      parts.push(h('p', null, h('a', { class: 'nhsuk-link', href: signInHref() }, 'Sign in to say this helped you')));
    } else {
      if (t.thanked) parts.push(h('p', null, t.named ? 'You said this helped you, and the author can see your name.' : 'You said this helped you. The author cannot see your name.'));
      const form = h(
        'form',
        { method: 'post', novalidate: true },
        h(
          'div',
          { class: 'nhsuk-form-group' },
          h(
            'div',
            { class: 'nhsuk-checkboxes' },
            h(
              'div',
              { class: 'nhsuk-checkboxes__item' },
              h('input', { class: 'nhsuk-checkboxes__input', id: 'f-named', name: 'named', type: 'checkbox', value: 'yes', checked: t.named === true, 'aria-describedby': 'f-named-hint' }),
              h('label', { class: 'nhsuk-label nhsuk-checkboxes__label', for: 'f-named' }, 'Show my name to the author'),
              h('div', { class: 'nhsuk-hint nhsuk-checkboxes__hint', id: 'f-named-hint' }, 'Otherwise the author only sees the count.'),
            ),
          ),
        ),
        button(t.thanked ? 'Save my choice' : 'This helped me', { variant: t.thanked ? 'secondary' : undefined }),
      );
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const named = values(form).checked('named');
        void busy(form, async () => {
          try {
            const next = await send<Thanks>('POST', `${o.base}/thanks`, { body: { named } });
            clearErrors(ctx);
            render(next, t.thanked ? (named ? 'The author can now see your name.' : 'The author can no longer see your name.') : 'Thank you – the author will hear that this helped you');
            section.querySelector<HTMLElement>('[role="status"]')?.focus();
          } catch (err) {
            showProblem(ctx, err);
          }
        });
      });
      parts.push(form);
    }
    clear(section);
    append(section, parts);
  };
  render(await getJson<Thanks>(`${o.base}/thanks`));
  return section;
}
