import { call, getJson, remove, send } from '../api/client';
import type { CalendarFeedLink, CalendarFeedStatus, EngagementPatch, EngagementPrefs, MemberView } from '../api/types';
import { date, h, link } from '../dom';
import type { PageContext } from '../router';
import { backLink, heading, insetText, organisations, topics } from '../ui/common';
import { clearErrors, showFieldErrors, showProblem } from '../ui/errors';
import { busy, button, checkboxes, radios, select, textInput, values } from '../ui/forms';

const SECTIONS: [string, string, string][] = [
  ['profile', 'Your profile', 'Your name, job title and organisation, and whether you are listed in the member directory.'],
  ['digest', 'Digest email', 'How often you get the digest of new case studies, resources and events, and on which topics.'],
  ['coffee', 'Randomised coffee', 'Be paired each week with someone from another organisation for a chat.'],
  ['emails', 'Questions and emails', 'The topics other members may ask you about, and which emails Qnet sends you.'],
  ['calendar', 'Calendar feed', 'A private address that puts the events you have booked into your calendar app.'],
];

const LABELS = { name: 'Name', job_title: 'Job title', organisation_id: 'Organisation', 'digest.cadence': 'How often', 'digest.topics': 'Topics', ask_me_about: 'Ask me about', engagement: 'Emails from Qnet' };

/** The kinds of email a member can turn off (the API's `engagement` keys), in the words of the page. */
export const EMAIL_KINDS: [keyof EngagementPrefs, string][] = [
  ['questions', 'Questions about my case studies and resources, and answers to my questions'],
  ['expert_questions', "Questions I could help with, in my 'Ask me about' topics"],
  ['project_reminders', 'Reminders to update my projects'],
  ['welcome', 'Welcome and getting started'],
  ['author_updates', 'How often my case studies and resources were read, and thanks'],
];

/** The most topics a member may be asked about (as the API's limit). */
const ASK_ME_ABOUT_MAX = 10;

function saved(ctx: PageContext, text: string): void {
  const note = h('div', { class: 'nhsuk-inset-text', role: 'status' }, h('p', null, text));
  clearErrors(ctx);
  ctx.alerts.replaceChildren(note);
}

export default async function settings(ctx: PageContext): Promise<void> {
  const section = ctx.params['section'];
  if (!section) {
    heading(ctx, 'Settings');
    ctx.main.append(
      h(
        'ul',
        { class: 'nhsuk-list nhsuk-list--border' },
        SECTIONS.map(([id, title, text]) => h('li', null, h('h2', { class: 'nhsuk-heading-s nhsuk-u-margin-bottom-1' }, link(`/settings/${id}`, title)), h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-0' }, text))),
      ),
    );
    return;
  }
  const found = SECTIONS.find(([id]) => id === section);
  if (!found) {
    const nf = await import('./not-found');
    return nf.default(ctx);
  }
  let me = await getJson<MemberView>('/me');
  ctx.main.append(backLink('/settings', 'Back to settings'));
  heading(ctx, found[1]);
  const patch = async (form: HTMLFormElement, body: unknown, message: string) =>
    busy(form, async () => {
      try {
        me = await send<MemberView>('PATCH', '/me', { body, ifMatch: me.version });
        saved(ctx, message);
      } catch (err) {
        showProblem(ctx, err, LABELS);
      }
    });

  if (section === 'profile') {
    const orgs = await organisations();
    const domain = me.email.split('@')[1]?.toLowerCase() ?? '';
    const allowed = orgs.filter((o) => o.email_domains.includes(domain));
    const choices = allowed.length ? allowed : orgs;
    const form = h(
      'form',
      { method: 'post', novalidate: true },
      textInput({ field: 'name', label: 'Name', value: me.name, autocomplete: 'name' }),
      textInput({ field: 'job_title', label: 'Job title', value: me.job_title, autocomplete: 'organization-title' }),
      select({ field: 'organisation_id', label: 'Organisation', value: me.organisation_id ?? '', options: [['', 'Choose your organisation'], ...choices.map((o): [string, string] => [o.id, o.name])] }),
      checkboxes({ field: 'listed', legend: 'Member directory', hint: 'Other signed-in members see your name, organisation, job title and topics, never your email address.', items: [{ value: 'yes', label: 'List me in the member directory' }], checked: me.listed ? ['yes'] : [] }),
      button('Save profile'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = values(form);
      const body: Record<string, unknown> = { name: v.text('name'), job_title: v.text('job_title'), listed: v.all('listed').includes('yes') };
      if (v.text('organisation_id')) body['organisation_id'] = v.text('organisation_id');
      void patch(form, body, 'Your profile is saved.');
    });
    ctx.main.append(h('p', null, `Signed in as ${me.email}.`), form);
  } else if (section === 'digest') {
    const allTopics = await topics();
    const form = h(
      'form',
      { method: 'post', novalidate: true },
      radios({
        field: 'digest.cadence',
        legend: 'How often do you want the digest?',
        value: me.digest.unsubscribed_at ? 'off' : me.digest.cadence,
        items: [
          { value: 'weekly', label: 'Weekly', hint: 'Monday mornings' },
          { value: 'monthly', label: 'Monthly', hint: 'The first Monday of the month' },
          { value: 'off', label: 'Never' },
        ],
      }),
      checkboxes({ field: 'digest.topics', legend: 'Topics', hint: 'Choose none to hear about every topic.', items: allTopics.map((t) => ({ value: t.id, label: t.name })), checked: me.digest.topics, small: true }),
      button('Save digest settings'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = values(form);
      void patch(form, { digest: { cadence: v.text('digest.cadence') || 'weekly', topics: v.all('digest.topics') } }, 'Your digest settings are saved.');
    });
    const frame = h('iframe', { class: 'qnet-preview', sandbox: '', title: 'Preview of your next digest', hidden: true });
    const previewButton = button('Preview the next digest', {
      type: 'button',
      variant: 'secondary',
      onclick: async () => {
        try {
          const r = await call('GET', '/me/digest/preview', { accept: 'text/html' });
          frame.srcdoc = await r.text();
          frame.hidden = false;
          frame.focus();
        } catch (err) {
          showProblem(ctx, err);
        }
      },
    });
    ctx.main.append(form, h('h2', null, 'Preview'), h('p', null, 'See the digest as it would be sent now, with your saved settings.'), previewButton, frame);
  } else if (section === 'coffee') {
    const form = h(
      'form',
      { method: 'post', novalidate: true },
      checkboxes({ field: 'coffee', legend: 'Randomised coffee', hint: 'Each week you may be introduced by email to someone from another organisation.', items: [{ value: 'yes', label: 'Pair me for a coffee each week' }], checked: me.coffee.opt_in ? ['yes'] : [] }),
      button('Save coffee setting'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const opt = values(form).all('coffee').includes('yes');
      void patch(form, { coffee: { opt_in: opt } }, opt ? 'You are in the next coffee round.' : 'You will not be paired for coffee.');
    });
    ctx.main.append(form);
  } else if (section === 'emails') {
    const allTopics = await topics();
    const form = h(
      'form',
      { method: 'post', novalidate: true },
      checkboxes({
        field: 'ask_me_about',
        legend: 'Ask me about',
        hint: 'Members with an unanswered question in these topics may be asked for help, at most one email a week',
        items: allTopics.map((t) => ({ value: t.id, label: t.name })),
        checked: me.ask_me_about,
        small: true,
      }),
      checkboxes({
        field: 'engagement',
        legend: 'Emails from Qnet',
        hint: 'Each email also has a link to stop that kind. The digest is set under Digest email.',
        items: EMAIL_KINDS.map(([value, label]) => ({ value, label })),
        // A kind the record does not name is on (the API's default).
        checked: EMAIL_KINDS.filter(([k]) => me.engagement[k] !== false).map(([k]) => k),
      }),
      button('Save email settings'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = values(form);
      const ask = v.all('ask_me_about');
      if (ask.length > ASK_ME_ABOUT_MAX) return showFieldErrors(ctx, [{ field: 'ask_me_about', message: `Choose up to ${ASK_ME_ABOUT_MAX} topics to be asked about` }]);
      const on = new Set(v.all('engagement'));
      const engagement: EngagementPatch = Object.fromEntries(EMAIL_KINDS.map(([k]) => [k, on.has(k)]));
      void patch(form, { ask_me_about: ask, engagement }, 'Your question and email settings are saved.');
    });
    ctx.main.append(form);
  } else if (section === 'calendar') {
    const area = h('div');
    ctx.main.append(h('p', null, 'Subscribe to this private address in your calendar app to see the events you have a place on. Anyone with the address can see those events, so keep it to yourself.'), area);
    const show = async (fresh?: CalendarFeedLink) => {
      const status = await getJson<CalendarFeedStatus>('/me/calendar-feed');
      area.replaceChildren();
      if (fresh) {
        const input = h('input', { class: 'nhsuk-input', id: 'f-feed-url', type: 'text', readonly: true, value: fresh.url, spellcheck: 'false' });
        area.append(
          h('div', { class: 'nhsuk-form-group' }, h('label', { class: 'nhsuk-label', for: 'f-feed-url' }, 'Your calendar feed address'), h('div', { class: 'nhsuk-hint' }, 'Copy it now: it is shown only once.'), input),
          button('Copy the address', {
            type: 'button',
            variant: 'secondary',
            onclick: async () => {
              try {
                await navigator.clipboard.writeText(fresh.url);
                saved(ctx, 'The address is copied.');
              } catch {
                input.select();
                saved(ctx, 'Select the address and copy it.');
              }
            },
          }),
        );
      } else if (status.exists) {
        area.append(insetText(h('p', null, `You have a calendar feed, made ${date(status.created_at, true)}. Its address was shown once; make a new one if you have lost it (the old one stops working).`)));
      } else {
        area.append(h('p', null, 'You do not have a calendar feed.'));
      }
      area.append(
        h(
          'div',
          { class: 'nhsuk-button-group' },
          button(status.exists ? 'Make a new calendar feed' : 'Create a calendar feed', {
            type: 'button',
            onclick: async () => {
              try {
                const made = await send<CalendarFeedLink>('POST', '/me/calendar-feed');
                await show(made);
                saved(ctx, 'Your calendar feed is ready.');
              } catch (err) {
                showProblem(ctx, err);
              }
            },
          }),
          status.exists
            ? button('Revoke calendar feed', {
                type: 'button',
                variant: 'warning',
                onclick: async () => {
                  try {
                    await remove('/me/calendar-feed');
                    await show();
                    saved(ctx, 'Your calendar feed is revoked: its address no longer works.');
                  } catch (err) {
                    showProblem(ctx, err);
                  }
                },
              })
            : null,
        ),
      );
    };
    await show();
  }
}
