// Issue 21, part 1 in the browser: questions and comments on published case
// studies and resources, answers on the question page (the link in the email),
// "This helped me" with and without a name, reports that a moderator removes or
// dismisses, and the "Ask me about" and email settings. Found by role, label
// and text; axe-core on every page and state.
import { expect, test, type Browser, type Page } from '@playwright/test';
import { DOMAIN, apiSignIn, checkPage, signInAs, type Role, API, api } from './helpers';

const WEB = () => process.env.QNET_WEB_URL!;

async function pageAs(browser: Browser, email: string, role: Role = 'member'): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signInAs(page, email, role);
  return page;
}

/** Someone's address, unique to this run and project. */
function person(who: string, project: string): string {
  return `${who}.${project}.${Date.now().toString(36)}@${DOMAIN}`;
}

/** A person's name as the local sign-in makes it (the address's local part). */
const nameOf = (email: string) => email.split('@')[0]!.replace(/\./g, ' ');

/** A case study by `author`, published by a moderator, through the API. */
async function publishedCaseStudy(author: string, title: string): Promise<string> {
  const { token } = await apiSignIn(author, 'member');
  const cs = await api<{ id: string }>(
    token,
    'POST',
    '/case-studies',
    { title, summary: 'Hourly rounding halved falls on an older people’s ward.', body: 'We tested hourly rounding on one bay, then the whole ward.', topics: [] },
    { 'idempotency-key': crypto.randomUUID() },
  );
  const { token: mod } = await apiSignIn(`sam.moderator@${DOMAIN}`, 'moderator');
  const view = await api<{ version: number }>(mod, 'GET', `/case-studies/${cs.id}`);
  await api(mod, 'POST', `/case-studies/${cs.id}/publish`, undefined, { 'if-match': `"${view.version}"` });
  return cs.id;
}

/** A link resource by `author`, published by a moderator, through the API. */
async function publishedResource(author: string, title: string): Promise<string> {
  const { token } = await apiSignIn(author, 'member');
  const r = await api<{ id: string }>(
    token,
    'POST',
    '/resources',
    { title, description: 'A one-page guide to drawing a run chart by hand.', kind: 'link', url: 'https://www.england.nhs.uk/quality-service-improvement-and-redesign-qsir-tools/' },
    { 'idempotency-key': crypto.randomUUID() },
  );
  const { token: mod } = await apiSignIn(`sam.moderator@${DOMAIN}`, 'moderator');
  const view = await api<{ version: number }>(mod, 'GET', `/resources/${r.id}`);
  await api(mod, 'POST', `/resources/${r.id}/publish`, undefined, { 'if-match': `"${view.version}"` });
  return r.id;
}

/** The link to /questions/{id} in the newest email to `to` that has one (the outbox fills as the API sends). */
async function questionLinkMailedTo(to: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const listing = await (await fetch(`${API()}/_local/outbox`)).text();
    const files = [...listing.matchAll(/<a href="\/_local\/outbox\/([^"]+)">/g)].map((m) => m[1]!).reverse();
    for (const file of files) {
      const raw = (await (await fetch(`${API()}/_local/outbox/${file}`)).text()).replace(/=\r?\n/g, '');
      if (!raw.includes(to)) continue;
      const link = new RegExp(`${WEB().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/questions/[A-Za-z0-9._-]+`).exec(raw);
      if (link) return link[0];
    }
    if (Date.now() > deadline) throw new Error(`no email to ${to} with a link to a question`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The "Questions and comments" section of a case study or resource page. */
const questions = (page: Page) => page.getByRole('region', { name: 'Questions and comments' });

/** The card of the question that says `text`. */
const questionCard = (page: Page, text: string) => page.getByRole('article').filter({ hasText: text });

test('a member asks on a case study, the author answers from the email link, and the asker sees the answer', async ({ browser }, info) => {
  test.setTimeout(180_000);
  const p = info.project.name;
  const author = person('ana.author', p);
  const asker = person('ben.asker', p);
  const title = `Fewer falls with hourly rounding ${p} ${Date.now().toString(36)}`;
  const id = await publishedCaseStudy(author, title);

  // The asker reads the case study: no questions yet.
  const ask = await pageAs(browser, asker);
  await ask.goto(`/case-studies/${id}`);
  await expect(ask.getByRole('heading', { level: 1, name: title })).toBeVisible();
  await expect(ask.getByRole('heading', { level: 2, name: 'Questions and comments' })).toBeVisible();
  await expect(ask.getByText('No questions or comments yet.')).toBeVisible();
  await checkPage(ask, info, 'case-study-no-questions');

  // An empty question, then one with an NHS number: the error summary, and the message beside the field.
  await ask.getByRole('button', { name: 'Post', exact: true }).click();
  await expect(ask.getByRole('alert')).toContainText('Write your question or comment');
  await ask.getByLabel('Your question or comment').fill('Did it work for patient 943 476 5919 on the night shift?');
  await ask.getByRole('button', { name: 'Post', exact: true }).click();
  await expect(ask.getByRole('alert')).toContainText('There is a problem');
  await expect(ask.getByRole('alert')).toContainText(/NHS number/);
  await expect(ask.locator('.nhsuk-error-message').filter({ hasText: /NHS number/ })).toBeVisible();
  await expect(ask.getByLabel('Your question or comment')).toHaveAccessibleDescription(/NHS number/);
  await checkPage(ask, info, 'case-study-question-refused');

  const question = `How did the night team keep up hourly rounding? ${p}`;
  await ask.getByLabel('Your question or comment').fill(question);
  await ask.getByRole('button', { name: 'Post', exact: true }).click();
  await expect(questions(ask).getByRole('status')).toContainText('Your question or comment is posted.');
  await expect(ask.getByRole('alert')).toHaveCount(0);
  const card = questionCard(ask, question);
  await expect(card.getByRole('heading', { name: `Question from ${nameOf(asker)}` })).toBeVisible();
  await expect(card).toContainText('Not answered yet');
  // Their own question: they may remove it, not report it.
  await expect(card.getByRole('button', { name: /^Remove/ })).toBeVisible();
  await expect(card.getByRole('button', { name: /^Report/ })).toHaveCount(0);
  await checkPage(ask, info, 'case-study-question-posted');

  // The author opens the question from the email and answers it there.
  const link = await questionLinkMailedTo(author);
  const auth = await pageAs(browser, author);
  await auth.goto(link);
  await expect(auth.getByRole('heading', { level: 1, name: `Question about ${title}` })).toBeVisible();
  await expect(auth.getByText(question)).toBeVisible();
  await expect(auth.getByRole('link', { name: title })).toHaveAttribute('href', `/case-studies/${id}`);
  await expect(auth.getByText('No one has answered yet.')).toBeVisible();
  await checkPage(auth, info, 'question');
  await auth.getByRole('button', { name: 'Post answer' }).click();
  await expect(auth.getByRole('alert')).toContainText('Write your answer');
  await auth.getByLabel('Your answer').fill('We started with the patient in bed 4, NHS number 943 476 5919.');
  await auth.getByRole('button', { name: 'Post answer' }).click();
  await expect(auth.getByRole('alert')).toContainText(/Your answer: .*NHS number/);
  await expect(auth.getByLabel('Your answer')).toHaveAccessibleDescription(/NHS number/);
  await checkPage(auth, info, 'question-answer-refused');
  const answer = `A night-shift champion on each bay, and a tick sheet by the nurses' station. ${p}`;
  await auth.getByLabel('Your answer').fill(answer);
  await auth.getByRole('button', { name: 'Post answer' }).click();
  await expect(auth.getByRole('status')).toContainText('Your answer is posted.');
  await expect(auth.getByRole('list', { name: `Answers to ${nameOf(asker)}` })).toContainText(answer);
  await expect(auth.getByRole('heading', { level: 2, name: '1 answer' })).toBeVisible();
  await checkPage(auth, info, 'question-answered');

  // The asker sees the answer under their question on the case study.
  await ask.reload();
  const answered = questionCard(ask, question);
  await expect(answered).toContainText('Answered');
  await expect(answered.getByRole('list', { name: `Answers to ${nameOf(asker)}` })).toContainText(answer);
  await expect(answered.getByRole('list', { name: `Answers to ${nameOf(asker)}` })).toContainText(nameOf(author));

  // Answering inline on the case study page too.
  await answered.getByRole('button', { name: /^Answer/ }).click();
  await expect(answered.getByRole('button', { name: /^Answer/ })).toHaveAttribute('aria-expanded', 'true');
  await answered.getByLabel('Your answer').fill(`Thank you, we will try the tick sheet. ${p}`);
  await checkPage(ask, info, 'case-study-answer-form');
  await answered.getByRole('button', { name: 'Post answer' }).click();
  await expect(questions(ask).getByRole('status')).toContainText('Your answer is posted.');
  await expect(questionCard(ask, question).getByRole('heading', { name: '2 answers' })).toBeVisible();

  // A signed-out visitor reads the question page, and is asked to sign in to answer.
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(link);
  await expect(visitor.getByText(question)).toBeVisible();
  await expect(visitor.getByText(answer)).toBeVisible();
  await expect(visitor.getByLabel('Your answer')).toHaveCount(0);
  await expect(visitor.getByRole('button', { name: /^Report/ })).toHaveCount(0);
  await expect(visitor.getByRole('link', { name: 'Sign in to answer' })).toBeVisible();
  await checkPage(visitor, info, 'question-signed-out');
  await visitor.goto(`/case-studies/${id}`);
  await expect(visitor.getByRole('link', { name: 'Sign in to ask a question or comment' })).toBeVisible();
  await expect(visitor.getByLabel('Your question or comment')).toHaveCount(0);
});

test('readers say a resource helped them, one by name, and the author sees the count and that name', async ({ browser }, info) => {
  test.setTimeout(180_000);
  const p = info.project.name;
  const author = person('cat.author', p);
  const named = person('dev.reader', p);
  const anonymous = person('eve.reader', p);
  const title = `Drawing a run chart by hand ${p} ${Date.now().toString(36)}`;
  const id = await publishedResource(author, title);

  const first = await pageAs(browser, named);
  await first.goto(`/resources/${id}`);
  await expect(first.getByRole('heading', { level: 2, name: 'Did this help you?' })).toBeVisible();
  await expect(first.getByText('No one has said this helped them yet.')).toBeVisible();
  await checkPage(first, info, 'resource-thanks');
  await first.getByLabel('Show my name to the author').check();
  await first.getByRole('button', { name: 'This helped me' }).click();
  await expect(first.getByRole('status')).toHaveText('Thank you – the author will hear that this helped you');
  await expect(first.getByText('1 person found this helpful')).toBeVisible();
  await checkPage(first, info, 'resource-thanked');
  await first.reload();
  await expect(first.getByText('You said this helped you, and the author can see your name.')).toBeVisible();
  await expect(first.getByLabel('Show my name to the author')).toBeChecked();
  await expect(first.getByRole('button', { name: 'This helped me' })).toHaveCount(0);
  // Readers do not see who said it.
  await expect(first.getByText(/Readers who chose to be named/)).toHaveCount(0);

  const second = await pageAs(browser, anonymous);
  await second.goto(`/resources/${id}`);
  await expect(second.getByText('1 person found this helpful')).toBeVisible();
  await expect(second.getByLabel('Show my name to the author')).not.toBeChecked();
  await second.getByRole('button', { name: 'This helped me' }).click();
  await expect(second.getByRole('status')).toHaveText('Thank you – the author will hear that this helped you');
  await expect(second.getByText('2 people found this helpful')).toBeVisible();

  // The author: the count and the one name; no button to thank themselves.
  const own = await pageAs(browser, author);
  await own.goto(`/resources/${id}`);
  await expect(own.getByRole('heading', { level: 2, name: 'Readers this helped' })).toBeVisible();
  await expect(own.getByText('2 people found this helpful')).toBeVisible();
  await expect(own.getByText(/Readers who chose to be named/)).toContainText(nameOf(named));
  await expect(own.getByText(/Readers who chose to be named/)).not.toContainText(nameOf(anonymous));
  await expect(own.getByRole('button', { name: 'This helped me' })).toHaveCount(0);
  await checkPage(own, info, 'resource-thanks-author');

  // Thanking again changes the name choice, not the count.
  await first.getByLabel('Show my name to the author').uncheck();
  await first.getByRole('button', { name: 'Save my choice' }).click();
  await expect(first.getByRole('status')).toHaveText('The author can no longer see your name.');
  await expect(first.getByText('2 people found this helpful')).toBeVisible();
  await own.reload();
  await expect(own.getByText('2 people found this helpful')).toBeVisible();
  await expect(own.getByText(/Readers who chose to be named/)).toHaveCount(0);

  // Signed out: the count, and a link to sign in.
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(`/resources/${id}`);
  await expect(visitor.getByText('2 people found this helpful')).toBeVisible();
  await expect(visitor.getByRole('link', { name: 'Sign in to say this helped you' })).toBeVisible();
  await checkPage(visitor, info, 'resource-signed-out');
});

test('a reported question is removed by a moderator, a reported answer is dismissed, and an asker removes their own question', async ({ browser }, info) => {
  test.setTimeout(180_000);
  const p = info.project.name;
  const author = person('fay.author', p);
  const asker = person('gus.asker', p);
  const reader = person('hal.reader', p);
  const title = `Safer discharge letters ${p} ${Date.now().toString(36)}`;
  const id = await publishedCaseStudy(author, title);
  const rude = `This whole project was a waste of everyone's time ${p}`;
  const fair = `Which template did the letters use? ${p}`;
  const mistake = `Sorry, wrong case study ${p}`;
  const { token: askerToken } = await apiSignIn(asker, 'member');
  const q1 = await api<{ id: string }>(askerToken, 'POST', `/case-studies/${id}/questions`, { body: rude }, { 'idempotency-key': crypto.randomUUID() });
  const q2 = await api<{ id: string }>(askerToken, 'POST', `/case-studies/${id}/questions`, { body: fair }, { 'idempotency-key': crypto.randomUUID() });
  const { token: authorToken } = await apiSignIn(author, 'member');
  const reply = `The trust's standard template, with a plain-English summary on top ${p}`;
  await api(authorToken, 'POST', `/questions/${q2.id}/answers`, { body: reply }, { 'idempotency-key': crypto.randomUUID() });

  // A reader reports the question and the answer.
  const rp = await pageAs(browser, reader);
  await rp.goto(`/case-studies/${id}`);
  const rudeCard = questionCard(rp, rude);
  await rudeCard.getByRole('button', { name: /^Report/ }).click();
  await rudeCard.getByRole('button', { name: 'Send report' }).click();
  await expect(rp.getByRole('alert')).toContainText('Enter why you are reporting this');
  await rudeCard.getByLabel('Why are you reporting this?').fill('It is unkind to the team.');
  await checkPage(rp, info, 'case-study-report-form');
  await rudeCard.getByRole('button', { name: 'Send report' }).click();
  await expect(rudeCard.getByRole('status')).toHaveText('Thank you. A moderator will look at your report.');
  await expect(rudeCard.getByRole('button', { name: /^Report/ })).toHaveCount(0);
  const fairCard = questionCard(rp, fair);
  const answers = fairCard.getByRole('list', { name: `Answers to ${nameOf(asker)}` });
  await answers.getByRole('button', { name: /^Report/ }).click();
  await answers.getByLabel('Why are you reporting this?').fill('I think this is advertising.');
  await answers.getByRole('button', { name: 'Send report' }).click();
  await expect(answers.getByRole('status')).toHaveText('Thank you. A moderator will look at your report.');

  // The moderator: from the moderation page to the reports.
  const mod = await pageAs(browser, `sam.moderator.${p}@${DOMAIN}`, 'moderator');
  await mod.goto('/moderation');
  await mod.getByRole('link', { name: 'Reported questions, answers and notes' }).click();
  await expect(mod.getByRole('heading', { level: 1, name: 'Reports' })).toBeVisible();
  const qReport = mod.getByRole('article').filter({ hasText: rude });
  await expect(qReport.getByRole('heading', { name: `Question from ${nameOf(asker)} on ${title}` })).toBeVisible();
  await expect(qReport).toContainText('It is unkind to the team.');
  const aReport = mod.getByRole('article').filter({ hasText: reply });
  await expect(aReport.getByRole('heading', { name: `Answer from ${nameOf(author)} on ${title}` })).toBeVisible();
  await expect(aReport).toContainText('I think this is advertising.');
  await checkPage(mod, info, 'reports');
  await qReport.getByRole('button', { name: /^Remove/ }).click();
  await expect(mod.getByRole('status')).toHaveText('The question is removed and its reports are closed.');
  await expect(mod.getByRole('article').filter({ hasText: rude })).toHaveCount(0);
  await mod.getByRole('article').filter({ hasText: reply }).getByRole('button', { name: /^Dismiss/ }).click();
  await expect(mod.getByRole('status')).toHaveText('The report is dismissed; the text stays.');
  await expect(mod.getByRole('article').filter({ hasText: reply })).toHaveCount(0);
  await checkPage(mod, info, 'reports-handled');
  // A moderator may remove anything on the page, not only their own.
  await mod.goto(`/case-studies/${id}`);
  const modCard = questionCard(mod, fair);
  await expect(modCard.getByRole('button', { name: `Remove the question from ${nameOf(asker)}` })).toBeVisible();
  await expect(modCard.getByRole('button', { name: `Remove the answer from ${nameOf(author)}` })).toBeVisible();

  // The removed question is gone from the case study and its page; the dismissed answer stays.
  await rp.reload();
  await expect(rp.getByText(rude)).toHaveCount(0);
  await expect(questionCard(rp, fair)).toContainText(reply);
  await rp.goto(`/questions/${q1.id}`);
  await expect(rp.getByRole('heading', { level: 1, name: 'This question is not available' })).toBeVisible();
  await checkPage(rp, info, 'question-not-available');

  // The asker removes a question of their own, after confirming.
  const ap = await pageAs(browser, asker);
  await ap.goto(`/case-studies/${id}`);
  await ap.getByLabel('Your question or comment').fill(mistake);
  await ap.getByRole('button', { name: 'Post', exact: true }).click();
  await expect(questions(ap).getByRole('status')).toContainText('Your question or comment is posted.');
  const mine = questionCard(ap, mistake);
  await mine.getByRole('button', { name: /^Remove/ }).click();
  await expect(mine.getByText('Remove this question and its answers? This cannot be undone.')).toBeVisible();
  await checkPage(ap, info, 'case-study-remove-question');
  await mine.getByRole('button', { name: 'Cancel' }).click();
  await expect(mine.getByText('Remove this question and its answers?')).toBeHidden();
  await mine.getByRole('button', { name: /^Remove/ }).click();
  await mine.getByRole('button', { name: 'Yes, remove it' }).click();
  await expect(questions(ap).getByRole('status')).toHaveText('The question is removed.');
  await expect(ap.getByText(mistake)).toHaveCount(0);
  await expect(questionCard(ap, fair)).toBeVisible();
});

test('the "Ask me about" topics and the email choices are saved and kept after a reload', async ({ page }, info) => {
  const email = person('ida.settings', info.project.name);
  await signInAs(page, email);
  const topics = ((await (await fetch(`${API()}/topics`)).json()) as { items: { id: string; name: string }[] }).items;
  const [first, second] = [topics[0]!, topics[1]!];
  await page.goto('/settings');
  await page.getByRole('link', { name: 'Questions and emails' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Questions and emails' })).toBeVisible();
  const ask = page.getByRole('group', { name: 'Ask me about' });
  const emails = page.getByRole('group', { name: 'Emails from Qnet' });
  await expect(ask).toHaveAccessibleDescription('Members with an unanswered question in these topics may be asked for help, at most one email a week');
  // Everything is on for a new member; no topics are chosen.
  for (const label of [
    'Questions about my case studies and resources, and answers to my questions',
    "Questions I could help with, in my 'Ask me about' topics",
    'Reminders to update my projects',
    'Welcome and getting started',
    'How often my case studies and resources were read, and thanks',
  ]) {
    await expect(emails.getByLabel(label)).toBeChecked();
  }
  await expect(ask.getByRole('checkbox', { checked: true })).toHaveCount(0);
  await checkPage(page, info, 'settings-emails');

  // At most ten topics.
  const boxes = ask.getByRole('checkbox');
  for (let i = 0; i < 11; i++) await boxes.nth(i).check();
  await page.getByRole('button', { name: 'Save email settings' }).click();
  await expect(page.getByRole('alert')).toContainText('Choose up to 10 topics to be asked about');
  await expect(ask).toHaveAccessibleDescription(/Choose up to 10 topics/);
  await checkPage(page, info, 'settings-emails-too-many');
  for (let i = 0; i < 11; i++) await boxes.nth(i).uncheck();

  await ask.getByLabel(first.name, { exact: true }).check();
  await ask.getByLabel(second.name, { exact: true }).check();
  await emails.getByLabel('Reminders to update my projects').uncheck();
  await emails.getByLabel('Welcome and getting started').uncheck();
  await page.getByRole('button', { name: 'Save email settings' }).click();
  await expect(page.getByRole('status')).toHaveText('Your question and email settings are saved.');
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.getByRole('group', { name: 'Ask me about' })).not.toHaveAccessibleDescription(/Choose up to 10 topics/);

  await page.reload();
  await expect(page.getByRole('group', { name: 'Ask me about' }).getByLabel(first.name, { exact: true })).toBeChecked();
  await expect(page.getByRole('group', { name: 'Ask me about' }).getByLabel(second.name, { exact: true })).toBeChecked();
  await expect(page.getByRole('group', { name: 'Ask me about' }).getByRole('checkbox', { checked: true })).toHaveCount(2);
  const after = page.getByRole('group', { name: 'Emails from Qnet' });
  await expect(after.getByLabel('Reminders to update my projects')).not.toBeChecked();
  await expect(after.getByLabel('Welcome and getting started')).not.toBeChecked();
  await expect(after.getByLabel('Questions about my case studies and resources, and answers to my questions')).toBeChecked();
  await expect(after.getByLabel("Questions I could help with, in my 'Ask me about' topics")).toBeChecked();
  await expect(after.getByLabel('How often my case studies and resources were read, and thanks')).toBeChecked();

  // The API holds the same.
  const { token } = await apiSignIn(email, 'member');
  const me = await api<{ ask_me_about: string[]; engagement: Record<string, boolean> }>(token, 'GET', '/me');
  expect(me.ask_me_about.sort()).toEqual([first.id, second.id].sort());
  expect(me.engagement).toEqual({ questions: true, expert_questions: true, project_reminders: false, welcome: false, author_updates: true });
  await checkPage(page, info, 'settings-emails-saved');
});
