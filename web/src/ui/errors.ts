// Problems as the NHS error-summary pattern, each field error linked to its
// field and repeated beside it.

import { ApiError } from '../api/client';
import { h, clear } from '../dom';
import type { PageContext } from '../router';

/** A field name from the API (`title`, `sections.aim`) to the id of its input. */
export function fieldId(field: string): string {
  return `f-${field.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}

export function clearErrors(ctx: PageContext): void {
  clear(ctx.alerts);
  for (const el of Array.from(ctx.main.querySelectorAll('.qnet-inline-error'))) el.remove();
  for (const el of Array.from(ctx.main.querySelectorAll('.nhsuk-form-group--error'))) el.classList.remove('nhsuk-form-group--error');
  for (const el of Array.from(ctx.main.querySelectorAll('.nhsuk-input--error, .nhsuk-textarea--error, .nhsuk-select--error'))) {
    el.classList.remove('nhsuk-input--error', 'nhsuk-textarea--error', 'nhsuk-select--error');
  }
  for (const el of Array.from(ctx.main.querySelectorAll('[data-error-described]'))) {
    const ids = (el.getAttribute('aria-describedby') ?? '').split(' ').filter((i) => !i.endsWith('-error'));
    if (ids.length) el.setAttribute('aria-describedby', ids.join(' '));
    else el.removeAttribute('aria-describedby');
    el.removeAttribute('data-error-described');
  }
}

function summary(title: string, items: { text: string; href?: string }[], extra?: Node): HTMLElement {
  const box = h(
    'div',
    { class: 'nhsuk-error-summary', tabindex: '-1', role: 'alert', 'aria-labelledby': 'error-summary-title' },
    h(
      'div',
      null,
      h('h2', { class: 'nhsuk-error-summary__title', id: 'error-summary-title' }, title),
      h(
        'div',
        { class: 'nhsuk-error-summary__body' },
        items.length
          ? h(
              'ul',
              { class: 'nhsuk-list nhsuk-error-summary__list' },
              items.map((i) =>
                h(
                  'li',
                  null,
                  i.href
                    ? h(
                        'a',
                        {
                          href: i.href,
                          onclick: (e: Event) => {
                            e.preventDefault();
                            const target = document.getElementById(i.href!.slice(1));
                            target?.scrollIntoView({ block: 'center' });
                            target?.focus();
                          },
                        },
                        i.text,
                      )
                    : i.text,
                ),
              ),
            )
          : null,
        extra ?? null,
      ),
    ),
  );
  return box;
}

function show(ctx: PageContext, box: HTMLElement): void {
  clear(ctx.alerts);
  ctx.alerts.appendChild(box);
  box.focus();
}

/** Marks one field as in error: the message beside it and the red border. */
export function inlineError(id: string, message: string): boolean {
  const input = document.getElementById(id);
  if (!input) return false;
  const group = input.closest('.nhsuk-form-group');
  group?.classList.add('nhsuk-form-group--error');
  const msg = h('span', { class: 'nhsuk-error-message qnet-inline-error', id: `${id}-error` }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Error: '), message);
  // Before the input (or the fieldset's items) as the design system places it.
  const anchor = input.tagName === 'FIELDSET' ? input.querySelector('.nhsuk-checkboxes, .nhsuk-radios') : input.closest('.nhsuk-input-wrapper') ?? input;
  anchor?.parentElement?.insertBefore(msg, anchor);
  if (input.tagName === 'INPUT') input.classList.add('nhsuk-input--error');
  if (input.tagName === 'TEXTAREA') input.classList.add('nhsuk-textarea--error');
  if (input.tagName === 'SELECT') input.classList.add('nhsuk-select--error');
  const described = (input.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
  input.setAttribute('aria-describedby', [...described, `${id}-error`].join(' '));
  input.setAttribute('data-error-described', '');
  return true;
}

/** Client-side checks use the same summary. */
export function showFieldErrors(ctx: PageContext, errors: { field: string; message: string; label?: string }[]): void {
  clearErrors(ctx);
  const items = errors.map((e) => {
    const id = fieldId(e.field);
    const found = inlineError(id, e.message);
    return { text: e.message, href: found ? `#${id}` : undefined };
  });
  show(ctx, summary('There is a problem', items));
}

function retryText(retryAfter: string | null): string {
  if (!retryAfter) return 'Try again in a minute.';
  const secs = Number(retryAfter);
  if (Number.isFinite(secs)) {
    if (secs < 90) return `Try again in ${Math.max(1, Math.ceil(secs))} seconds.`;
    return `Try again in ${Math.ceil(secs / 60)} minutes.`;
  }
  const when = new Date(retryAfter);
  if (!Number.isNaN(when.getTime())) {
    return `Try again after ${when.toLocaleTimeString('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit' })}.`;
  }
  return 'Try again in a minute.';
}

/** Shows what went wrong. `labels` turns API field names into the words on the page. */
export function showProblem(ctx: PageContext, err: unknown, labels: Record<string, string> = {}): void {
  clearErrors(ctx);
  if (!(err instanceof ApiError)) {
    console.error(err);
    show(ctx, summary('There is a problem', [{ text: 'Something went wrong. Try again.' }]));
    return;
  }
  if (err.status === 401) {
    ctx.navigate(`/sign-in?return=${encodeURIComponent(location.pathname + location.search)}`);
    return;
  }
  if (err.status === 412) {
    show(
      ctx,
      summary(
        'This changed since you opened it',
        [{ text: 'Someone else changed this while you had it open. Reload it to see the latest version, then make your change again.' }],
        h('button', { class: 'nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0', type: 'button', onclick: () => ctx.reload() }, 'Reload'),
      ),
    );
    return;
  }
  if (err.status === 429) {
    show(ctx, summary('Too many requests', [{ text: `You have made too many requests. ${retryText(err.retryAfter)}` }]));
    return;
  }
  const p = err.problem;
  const fieldErrors = p?.errors ?? [];
  if (fieldErrors.length) {
    const items = fieldErrors.map((e) => {
      const id = fieldId(e.field);
      const label = labels[e.field] ?? e.field;
      const text = `${label}: ${e.message}`;
      const found = inlineError(id, text);
      return { text, href: found ? `#${id}` : undefined };
    });
    show(ctx, summary('There is a problem', items));
    return;
  }
  const text = [p?.title, p?.detail].filter(Boolean).join(': ') || `The service answered ${err.status}.`;
  show(ctx, summary('There is a problem', [{ text }]));
}
