// "We are trying this" in the browser (issue 22): a member records that their
// team is adapting a published case study with one of their projects; the case
// study shows where it has spread, the project links back, and a visitor who
// is not signed in sees the spread but not who.
import { expect, test, type Browser, type Page } from '@playwright/test';
import { DOMAIN, apiSignIn, checkPage, signInAs, unique, API, api } from './helpers';

const member = (who: string) => `${who}@${DOMAIN}`;

async function pageAs(browser: Browser, email: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signInAs(page, email, 'member');
  return page;
}

test('a member records that their project is adapting a case study, and the spread shows on both pages', async ({ browser }, info) => {
  const title = unique(info, 'Fewer falls with hourly rounding');
  const projectTitle = unique(info, 'Falls in our care homes');
  const author = (await apiSignIn(member(`author.adopt.${info.project.name}`), 'member')).token;
  const moderator = (await apiSignIn(member(`mod.adopt.${info.project.name}`), 'moderator')).token;
  const cs = await api<{ id: string; version: number }>(author, 'POST', '/case-studies', { title, body: 'Hourly rounding over six PDSA cycles.' });
  await api(moderator, 'POST', `/case-studies/${cs.id}/publish`, undefined, { 'if-match': `"${cs.version}"` });
  const adopterEmail = member(`ann.adopt.${info.project.name}`);
  const adopter = (await apiSignIn(adopterEmail, 'member')).token;
  const orgs = (await (await fetch(`${API()}/organisations`)).json()) as { items: { id: string; name: string; email_domains: string[] }[] };
  const home = orgs.items.find((o) => o.email_domains.includes(DOMAIN))!;
  await api(adopter, 'POST', '/projects', {
    title: projectTitle, aim: 'Halve falls in our care homes by June 2027', organisation_ids: [home.id], team: [], topics: [],
    status: 'active', started_on: '2026-10-05', classification: 'quality_improvement',
  });

  const page = await pageAs(browser, adopterEmail);
  await page.goto(`/case-studies/${cs.id}`);
  await expect(page.getByRole('heading', { level: 2, name: 'Where this has spread' })).toBeVisible();
  await expect(page.getByText('No team has recorded that it is trying this yet.')).toBeVisible();
  await checkPage(page, info, 'case-study-spread-none');
  await page.getByLabel('Adapting it to our setting').check();
  await page.getByLabel('Which of your projects carries it? (optional)').selectOption({ label: projectTitle });
  // The guard refuses an NHS number next to the field, and nothing is recorded.
  await page.getByLabel('How you are using it (optional)').fill('Tried first with the patient 943 476 5919');
  await page.getByRole('button', { name: 'Record that we are trying this' }).click();
  await expect(page.getByRole('alert')).toContainText('How you are using it');
  await checkPage(page, info, 'case-study-adopt-error');
  await page.getByLabel('How you are using it (optional)').fill('Rounding every two hours in three care homes.');
  await page.getByRole('button', { name: 'Record that we are trying this' }).click();
  await expect(page.getByText('1 team is trying this')).toBeVisible();
  await expect(page.getByText(`${home.name} (NHS)`)).toBeVisible();
  const adoptions = page.getByRole('list', { name: 'Adoptions' });
  await expect(adoptions).toContainText('adapting it');
  await expect(adoptions.getByRole('link', { name: projectTitle })).toBeVisible();
  await expect(page.getByRole('heading', { level: 3, name: 'Change what you recorded' })).toBeVisible();
  await checkPage(page, info, 'case-study-spread');

  // The project links back to where the idea came from.
  await adoptions.getByRole('link', { name: projectTitle }).click();
  await expect(page.getByRole('heading', { level: 1, name: projectTitle })).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: 'Where the idea came from' })).toBeVisible();
  await checkPage(page, info, 'project-inspired-by');
  await page.getByRole('link', { name: title }).click();
  await expect(page.getByRole('heading', { level: 1, name: title })).toBeVisible();

  // A visitor sees where it spread, not who; the author sees it but cannot adopt their own.
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(`/case-studies/${cs.id}`);
  await expect(visitor.getByText('1 team is trying this')).toBeVisible();
  await expect(visitor.getByRole('list', { name: 'Adoptions' })).toHaveCount(0);
  await expect(visitor.getByRole('link', { name: 'Sign in to record that your team is trying this' })).toBeVisible();
  await checkPage(visitor, info, 'case-study-spread-visitor');

  // Withdrawing takes it away.
  await page.getByRole('button', { name: 'Withdraw' }).click();
  await expect(page.getByText('No team has recorded that it is trying this yet.')).toBeVisible();
});
