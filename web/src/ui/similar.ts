// "Similar work already in the network" (issue 22): beside the draft of a
// project or case study, what the network already holds like it (POST
// /similar), filled in when the member leaves the title or aim (or presses
// "Check for similar work"), with a Follow toggle and "Ask the lead to team
// up" for each project.

import { ApiError, call, send } from '../api/client';
import type { FollowState, SimilarItem, SimilarWork } from '../api/types';
import { clear, h, link, tag } from '../dom';
import { ORG_TYPES } from '../pages/adoptions';
import { button } from './forms';

export interface Draft {
  title: string;
  aim: string;
  topics: string[];
}

/** The panel, and `check()` to fill it in again. `draft` reads the form. */
export function similarPanel(draft: () => Draft, o: { excludeId?: string } = {}): { panel: HTMLElement; check: () => void } {
  const results = h('div', { class: 'qnet-similar__results', 'aria-live': 'polite' }, h('p', { class: 'nhsuk-hint' }, 'Write a title to see similar projects and case studies.'));
  let last = '';
  let seq = 0;
  const check = (force = false): void => {
    const d = draft();
    if (!d.title) return;
    const key = JSON.stringify(d);
    if (!force && key === last) return;
    last = key;
    const mine = ++seq;
    clear(results);
    results.append(h('p', { class: 'nhsuk-hint' }, 'Looking for similar work…'));
    void send<SimilarWork>('POST', '/similar', {
      body: { title: d.title.slice(0, 200), aim: d.aim.slice(0, 2000) || undefined, topics: d.topics.slice(0, 10), exclude_id: o.excludeId },
    })
      .then((work) => {
        if (mine !== seq) return;
        clear(results);
        if (!work.items.length) {
          results.append(h('p', null, 'No similar work found yet.'));
          return;
        }
        results.append(h('ul', { class: 'nhsuk-list', 'aria-label': 'Similar work' }, work.items.map(item)));
      })
      .catch((err: unknown) => {
        if (mine !== seq) return;
        last = '';
        clear(results);
        const why = err instanceof ApiError && err.status === 422 ? 'Check the title and aim: similar work could not be looked for.' : 'Similar work could not be looked for just now. Try again.';
        results.append(h('p', null, why));
      });
  };
  const panel = h(
    'section',
    { class: 'nhsuk-card qnet-similar', 'aria-labelledby': 'similar-heading' },
    h(
      'div',
      { class: 'nhsuk-card__content' },
      h('h2', { class: 'nhsuk-card__heading', id: 'similar-heading' }, 'Similar work already in the network'),
      h('p', null, 'Before you start, see whether others are already working on this. You can follow their project or ask its lead to team up.'),
      button('Check for similar work', { type: 'button', variant: 'secondary', onclick: () => check(true) }),
      results,
    ),
  );
  return { panel, check: () => check(false) };
}

function item(w: SimilarItem): HTMLElement {
  const isProject = w.kind === 'project';
  const href = isProject ? `/projects/${encodeURIComponent(w.id)}` : `/case-studies/${encodeURIComponent(w.id)}`;
  const org = w.organisation ? `${w.organisation.name} (${ORG_TYPES[w.organisation.type] ?? w.organisation.type})` : null;
  const team = w.team.map((m) => m.name).join(', ');
  const li = h(
    'li',
    { class: 'qnet-similar__item nhsuk-u-padding-top-3' },
    h('h3', { class: 'nhsuk-heading-s nhsuk-u-margin-bottom-2' }, link(href, w.title)),
    h('p', { class: 'nhsuk-u-margin-bottom-2' }, tag(isProject ? 'Project' : 'Case study', isProject ? 'blue' : 'green')),
    org ? h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-1' }, org) : null,
    team ? h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-1' }, `${isProject ? 'Team' : 'By'}: ${team}`) : null,
    w.summary ? h('p', { class: 'nhsuk-body-s' }, w.summary) : null,
  );
  if (isProject) li.append(projectActions(w));
  return li;
}

function projectActions(w: SimilarItem): HTMLElement {
  const base = `/projects/${encodeURIComponent(w.id)}`;
  let following = w.following;
  // The project's title, hidden, tells apart the buttons of several projects.
  const named = (el: HTMLButtonElement, text: string): void => {
    el.textContent = text;
    el.append(h('span', { class: 'nhsuk-u-visually-hidden' }, ` ${w.title}`));
  };
  const follow = button('', { type: 'button', variant: 'secondary', small: true });
  named(follow, following ? 'Following' : 'Follow');
  follow.addEventListener('click', () => {
    void (async () => {
      try {
        if (following) await call('DELETE', `${base}/follow`);
        else await send<FollowState>('POST', `${base}/follow`);
        following = !following;
        named(follow, following ? 'Following' : 'Follow');
      } catch {
        /* the toggle stays as it was */
      }
    })();
  });
  const id = `team-up-${w.id}`;
  const area = h('textarea', { class: 'nhsuk-textarea', id, rows: 4, maxlength: 1000, 'aria-describedby': `${id}-hint` });
  const group = h(
    'div',
    { class: 'nhsuk-form-group' },
    h('label', { class: 'nhsuk-label', for: id }, 'Message to the project lead'),
    h('div', { class: 'nhsuk-hint', id: `${id}-hint` }, 'They get it by email with your name, organisation and email address, and can reply to you directly. Do not include anything that could identify a patient.'),
    area,
  );
  const sendButton = button('Send', { type: 'button', small: true });
  const composer = h('div', { class: 'qnet-similar__team-up', hidden: true }, group, sendButton);
  const ask = button('', { type: 'button', variant: 'secondary', small: true });
  named(ask, 'Ask the lead to team up');
  ask.setAttribute('aria-expanded', 'false');
  ask.setAttribute('aria-controls', `${id}-composer`);
  composer.id = `${id}-composer`;
  ask.addEventListener('click', () => {
    composer.hidden = !composer.hidden;
    ask.setAttribute('aria-expanded', String(!composer.hidden));
    if (!composer.hidden) area.focus();
  });
  const status = h('div', { 'aria-live': 'polite' });
  const showError = (message: string): void => {
    group.classList.add('nhsuk-form-group--error');
    group.querySelector('.nhsuk-error-message')?.remove();
    area.classList.add('nhsuk-textarea--error');
    area.setAttribute('aria-describedby', `${id}-hint ${id}-error`);
    area.before(h('span', { class: 'nhsuk-error-message', id: `${id}-error` }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Error:'), ` ${message}`));
  };
  sendButton.addEventListener('click', () => {
    const message = area.value.trim();
    if (!message) return showError('Enter a message to the project lead');
    sendButton.setAttribute('aria-disabled', 'true');
    void send('POST', `${base}/team-up`, { body: { message }, create: true })
      .then(() => {
        // The focused button goes with the form: focus moves to what happened.
        const done = h('p', { class: 'nhsuk-body-s', tabindex: '-1' }, h('strong', null, 'Your message has been sent'));
        composer.remove();
        ask.remove();
        status.append(done);
        done.focus();
      })
      .catch((err: unknown) => {
        const detail = err instanceof ApiError ? (err.problem?.errors?.find((e) => e.field === 'message')?.message ?? err.message) : 'Try again.';
        showError(`Your message was not sent: ${detail}`);
      })
      .finally(() => sendButton.removeAttribute('aria-disabled'));
  });
  return h('div', { class: 'nhsuk-u-margin-bottom-3' }, h('div', { class: 'nhsuk-button-group nhsuk-u-margin-bottom-0' }, follow, ask), composer, status);
}
