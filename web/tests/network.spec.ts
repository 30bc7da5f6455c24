// Issue 18, part 2: mentoring and coffee, QI projects with charts and boards,
// driven by role, label and text, with axe-core on every page.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { DOMAIN, checkPage, signInAs, unique } from './helpers';

const API = process.env.QNET_API_URL!;

async function as(browser: Browser, email: string): Promise<Page> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signInAs(page, email);
  return page;
}

/** A person's name as the local sign-in makes it (the address's local part). */
const nameOf = (email: string) => email.split('@')[0]!.replace(/\./g, ' ');

/** The newest message in the local outbox to `to` whose subject matches. */
async function newestMail(to: string, subject: RegExp): Promise<string> {
  const listing = await (await fetch(`${API}/_local/outbox`)).text();
  const files = [...listing.matchAll(/<a href="\/_local\/outbox\/([^"]+)">([^<]*)<\/a>/g)].filter(([, , s]) => subject.test(s!));
  for (const [, file] of files.reverse()) {
    const raw = (await (await fetch(`${API}/_local/outbox/${file}`)).text()).replace(/=\r?\n/g, '');
    if (raw.includes(to)) return raw;
  }
  throw new Error(`no email to ${to} matching ${subject}`);
}

test('a mentor offers, a member asks, and the mentor accepts through the email link', async ({ browser }, info) => {
  const tag = info.project.name;
  const mentorEmail = `mentor.${tag}.${Date.now().toString(36)}@${DOMAIN}`;
  const menteeEmail = `mentee.${tag}.${Date.now().toString(36)}@${DOMAIN}`;
  const mentor = await as(browser, mentorEmail);
  await mentor.goto('/mentoring');
  await checkPage(mentor, info, 'mentoring');
  await mentor.getByRole('link', { name: 'Offer to mentor or coach' }).click();
  await expect(mentor.getByRole('heading', { level: 1, name: 'Offer to mentor or coach' })).toBeVisible();
  await checkPage(mentor, info, 'mentor-offer');
  await mentor.getByRole('button', { name: 'Offer to mentor' }).click();
  await expect(mentor.getByText('Choose mentoring, coaching or both').first()).toBeVisible();
  await mentor.getByRole('group', { name: 'What you offer' }).getByLabel('Mentoring').check();
  await mentor.getByRole('group', { name: 'Topics' }).getByLabel('Measurement for improvement').check();
  await mentor.getByLabel('Skills').fill('run charts, SPC');
  await mentor.getByLabel('How many mentees at once').selectOption('1');
  await mentor.getByLabel('About you').fill('Ten years of measurement for improvement.');
  await mentor.getByRole('button', { name: 'Offer to mentor' }).click();
  await expect(mentor.getByText(/You offer mentoring: accepting new mentees, 1 of 1 places free/)).toBeVisible();

  const mentee = await as(browser, menteeEmail);
  await mentee.goto('/mentoring');
  await mentee.getByRole('link', { name: 'Ask for a mentor or coach' }).click();
  await checkPage(mentee, info, 'mentoring-ask');
  await mentee.getByRole('group', { name: 'Topics' }).getByLabel('Measurement for improvement').check();
  await mentee.getByLabel('What you would like help with').fill('I want to read run charts for our discharge project.');
  await mentee.getByRole('button', { name: 'Ask for a mentor' }).click();
  await expect(mentee.getByRole('heading', { level: 1, name: 'Your mentoring request' })).toBeVisible();
  await expect(mentee.getByRole('heading', { name: 'Your proposed mentor' })).toBeVisible();
  await expect(mentee.getByText(nameOf(mentorEmail), { exact: true }).first()).toBeVisible();
  await expect(mentee.getByRole('heading', { name: 'Mentors who suit your request' })).toBeVisible();
  await checkPage(mentee, info, 'mentoring-request');

  // The mentor sees the offer on the site, and answers it from the email.
  await mentor.goto('/mentoring');
  await expect(mentor.getByRole('heading', { name: 'Requests offered to you' })).toBeVisible();
  await expect(mentor.getByText('I want to read run charts for our discharge project.')).toBeVisible();
  const mail = await newestMail(mentorEmail, /mentor/i);
  const offer = /https?:\/\/[^\s"<>]+\/mentoring\/offers\/[A-Za-z0-9._-]+/.exec(mail)![0];
  await mentor.goto(offer);
  await mentor.getByRole('button', { name: 'Accept' }).click();
  await expect(mentor.getByRole('heading', { level: 1 })).toContainText(/accept/i);

  await mentor.goto('/mentoring');
  await expect(mentor.getByRole('heading', { name: 'Your mentees' })).toBeVisible();
  await expect(mentor.getByText(nameOf(menteeEmail), { exact: false }).first()).toBeVisible();
  await checkPage(mentor, info, 'mentoring-mentor');

  await mentee.reload();
  await expect(mentee.getByText('Paired', { exact: true })).toBeVisible();
  await mentee.getByLabel('Feedback (optional)').fill('Very helpful, thank you.');
  await mentee.getByRole('button', { name: 'Close the pairing' }).click();
  await expect(mentee.getByText('Closed', { exact: true }).first()).toBeVisible();

  // Paused, so the other width's run is not proposed this mentor.
  await mentor.getByRole('link', { name: 'Change your mentor profile' }).click();
  await mentor.getByLabel('Paused: do not propose me for now').check();
  await mentor.getByRole('button', { name: 'Save mentor profile' }).click();
  await expect(mentor.getByText(/paused, not accepting new mentees/)).toBeVisible();
});

function coffeeRound(at: Date): void {
  const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const bin = path.resolve(web, process.env.QNET_BIN ?? '../target/debug/qnet');
  execFileSync(bin, ['coffee-round', '--data-dir', process.env.QNET_TEST_DATA!, '--now', at.toISOString().replace(/\.\d{3}Z$/, 'Z')], {
    cwd: path.resolve(web, '..'),
    encoding: 'utf8',
    env: { ...process.env, QNET_WEB_BASE_URL: process.env.QNET_WEB_URL!, QNET_PUBLIC_API_URL: API },
  });
}

test('a coffee round is shown to both people paired', async ({ browser }, info) => {
  const stamp = Date.now().toString(36);
  const one = `coffee.one.${info.project.name}.${stamp}@${DOMAIN}`;
  const two = `coffee.two.${info.project.name}.${stamp}@${DOMAIN}`;
  const pages: Page[] = [];
  for (const who of [one, two]) {
    const page = await as(browser, who);
    await page.goto('/mentoring/coffee');
    await expect(page.getByRole('heading', { level: 1, name: 'Randomised coffee' })).toBeVisible();
    await page.getByRole('button', { name: 'Pair me for coffee each week' }).click();
    await expect(page.getByText('You are in the pool for each new round.')).toBeVisible();
    pages.push(page);
  }
  await checkPage(pages[0]!, info, 'coffee');
  // The phone run draws this week's round; the desktop run (this week's round
  // is drawn by then) draws last week's, which shows under past rounds.
  const thisWeek = info.project.name === 'phone';
  coffeeRound(thisWeek ? new Date() : new Date(Date.now() - 7 * 24 * 3600 * 1000));
  for (const [i, page] of pages.entries()) {
    const other = nameOf(i === 0 ? two : one);
    await page.reload();
    if (thisWeek) {
      await expect(page.getByText(`You are paired with ${other} from Leeds Teaching Hospitals.`)).toBeVisible();
      await expect(page.getByRole('heading', { name: /The introduction we emailed you on/ })).toBeVisible();
      await expect(page.getByText(/Find half an hour for a coffee/).last()).toBeVisible();
    } else {
      await expect(page.getByText(new RegExp(`: ${other} from Leeds Teaching Hospitals`))).toBeVisible();
    }
    await checkPage(page, info, `coffee-paired-${i}`);
    await page.getByRole('button', { name: 'Stop pairing me for coffee' }).click();
    await expect(page.getByText('You are not being paired for coffee.')).toBeVisible();
  }
});

/** 12 baseline weeks alternating around 10, then 7 weeks at 20: a shift up. */
function shiftCsv(): string {
  const lines = ['date,value'];
  const start = Date.UTC(2025, 0, 6);
  for (let i = 0; i < 19; i++) {
    const d = new Date(start + i * 7 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    lines.push(`${d},${i < 12 ? (i % 2 ? 12 : 8) : 20}`);
  }
  return lines.join('\n');
}

test('a project is registered, a CSV pasted, and the chart and its words show a shift', async ({ browser }, info) => {
  const title = unique(info, 'Faster discharge');
  const lead = await as(browser, `lead.${info.project.name}.${Date.now().toString(36)}@${DOMAIN}`);
  await lead.goto('/projects');
  await checkPage(lead, info, 'projects');
  await lead.getByRole('link', { name: 'Register a project' }).click();
  await expect(lead.getByRole('heading', { level: 1, name: 'Register a project' })).toBeVisible();
  await lead.getByLabel('Title').fill(title);
  await lead.getByLabel('Aim', { exact: true }).fill('Discharge 20% more patients before noon by June.');
  // Guided classification: in order, the first "yes" decides; all "no" is a service evaluation.
  const groups = lead.getByRole('group').filter({ has: lead.getByRole('radio', { name: 'Yes' }) });
  const n = await groups.count();
  for (let i = 0; i < n; i++) await groups.nth(i).getByRole('radio', { name: 'No' }).check();
  await expect(lead.getByText('This is Service evaluation.')).toBeVisible();
  await groups.first().getByRole('radio', { name: 'Yes' }).check();
  await expect(lead.getByText('This is Research.')).toBeVisible();
  await expect(lead.getByText('Research needs ethics (HRA) approval before it starts.')).toBeVisible();
  await groups.first().getByRole('radio', { name: 'No' }).check();
  await groups.getByRole('radio', { name: 'Yes' }).and(lead.getByRole('radio', { name: 'Yes' })).nth(3).check();
  await expect(lead.getByText('This is Quality improvement.')).toBeVisible();
  await lead.getByLabel('Progress score').selectOption('2');
  await checkPage(lead, info, 'project-new');
  await lead.getByRole('button', { name: 'Register the project' }).click();
  await expect(lead.getByRole('heading', { level: 1, name: title })).toBeVisible();
  await expect(lead.getByText('Quality improvement', { exact: true })).toBeVisible();

  await lead.getByLabel('Plan', { exact: true }).fill('Board round at 9am on ward 12 for one week.');
  await lead.getByLabel('Prediction').fill('More discharges before noon.');
  await lead.getByRole('button', { name: 'Log the cycle' }).click();
  await expect(lead.getByText('Board round at 9am on ward 12 for one week.')).toBeVisible();

  await lead.getByLabel('Measure name').fill('Discharges before noon');
  await lead.getByLabel('Unit (optional)').fill('%');
  await lead.getByRole('button', { name: 'Add the measure' }).click();
  await expect(lead.getByRole('heading', { level: 1, name: 'Discharges before noon' })).toBeVisible();
  await lead.getByRole('textbox', { name: 'Points as CSV' }).fill('date,value\n2025-01-06,8\nnot a date,9');
  await lead.getByRole('button', { name: 'Add the pasted points' }).click();
  await expect(lead.getByRole('alert').getByText(/^Line 3: /)).toBeVisible();
  await lead.getByRole('textbox', { name: 'Points as CSV' }).fill(shiftCsv());
  await lead.getByRole('button', { name: 'Add the pasted points' }).click();
  await expect(lead.getByText('19 points added, 0 replaced.')).toBeVisible();
  await lead.getByLabel('Baseline (optional)').fill('12');
  await lead.getByRole('button', { name: 'Show the chart' }).click();
  const words = lead.getByRole('list', { name: 'What the chart shows' });
  await expect(words.getByText('8 points in a row above the median from 24 March: a shift, an improvement.')).toBeVisible();
  await expect(lead.getByRole('img', { name: /shift/ })).toBeVisible();
  await checkPage(lead, info, 'measure-run');
  await lead.getByLabel('XmR chart').check();
  await lead.getByRole('button', { name: 'Show the chart' }).click();
  await expect(words.getByText(/XmR/)).toBeVisible();
  await expect(words.getByText(/The latest point/)).toBeVisible();
  await checkPage(lead, info, 'measure-xmr');
});

test('a board post is answered', async ({ browser }, info) => {
  const title = unique(info, 'Sepsis screening');
  const lead = await as(browser, `boardlead.${info.project.name}.${Date.now().toString(36)}@${DOMAIN}`);
  await lead.goto('/projects/new');
  await lead.getByLabel('Title').fill(title);
  await lead.getByLabel('Aim', { exact: true }).fill('Screen 95% of patients for sepsis within an hour by May.');
  await lead.getByRole('button', { name: 'Register the project' }).click();
  await expect(lead.getByRole('heading', { level: 1, name: title })).toBeVisible();
  await expect(lead.getByText(/You follow this project/)).toBeVisible();
  await lead.getByLabel('New post').fill('Has anyone tried a screening sticker on the obs chart?');
  await lead.getByRole('button', { name: 'Post to the board' }).click();
  await expect(lead.getByText('Has anyone tried a screening sticker on the obs chart?')).toBeVisible();
  const url = lead.url();

  const other = await as(browser, `helper.${info.project.name}.${Date.now().toString(36)}@${DOMAIN}`);
  await other.goto(url);
  await other.getByRole('button', { name: 'Follow this project' }).click();
  await expect(other.getByRole('button', { name: 'Unfollow this project' })).toBeVisible();
  await other.getByLabel(/^Reply to /).fill('Yes: ours doubled screening in a month.');
  await other.getByRole('button', { name: 'Send reply' }).click();
  await expect(other.getByText('Yes: ours doubled screening in a month.')).toBeVisible();
  await checkPage(other, info, 'project-board');
  await other.getByRole('button', { name: 'Unfollow this project' }).click();
  await expect(other.getByRole('button', { name: 'Follow this project' })).toBeVisible();

  await lead.reload();
  await expect(lead.getByRole('list', { name: /^Replies to / }).getByText('Yes: ours doubled screening in a month.')).toBeVisible();
  await checkPage(lead, info, 'project');
});
