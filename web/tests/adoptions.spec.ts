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

test('a reader reports an adoption note and a moderator removes it from the reports', async ({ browser }, info) => {
  const title = unique(info, 'Safer discharge letters');
  const note = unique(info, 'Trying it with the night team');
  const author = (await apiSignIn(member(`author.note.${info.project.name}`), 'member')).token;
  const moderatorEmail = member(`mod.note.${info.project.name}`);
  const moderator = (await apiSignIn(moderatorEmail, 'moderator')).token;
  const cs = await api<{ id: string; version: number }>(author, 'POST', '/case-studies', { title, body: 'One template for every discharge letter.' });
  await api(moderator, 'POST', `/case-studies/${cs.id}/publish`, undefined, { 'if-match': `"${cs.version}"` });
  const adopterEmail = member(`bo.note.${info.project.name}`);
  const adopter = await apiSignIn(adopterEmail, 'member');
  const adopterName = adopterEmail.split('@')[0]!.replace(/\./g, ' ');
  await api(adopter.token, 'POST', `/case-studies/${cs.id}/adoptions`, { kind: 'adopting', note });

  // A reader reports the note; their own adoption would have no Report button.
  const reader = await pageAs(browser, member(`cy.note.${info.project.name}`));
  await reader.goto(`/case-studies/${cs.id}`);
  const adoptions = reader.getByRole('list', { name: 'Adoptions' });
  await expect(adoptions).toContainText(note);
  await adoptions.getByRole('button', { name: /^Report/ }).click();
  await adoptions.getByRole('button', { name: 'Send report' }).click();
  await expect(reader.getByRole('alert')).toContainText('Enter why you are reporting this');
  await adoptions.getByLabel('Why are you reporting this?').fill('It names a colleague.');
  await checkPage(reader, info, 'adoption-report-form');
  await adoptions.getByRole('button', { name: 'Send report' }).click();
  await expect(adoptions.getByRole('status')).toHaveText('Thank you. A moderator will look at your report.');
  const own = await pageAs(browser, adopterEmail);
  await own.goto(`/case-studies/${cs.id}`);
  await expect(own.getByRole('list', { name: 'Adoptions' })).toContainText(note);
  await expect(own.getByRole('list', { name: 'Adoptions' }).getByRole('button', { name: /^Report/ })).toHaveCount(0);

  // The moderator reads it on the reports page and removes the adoption.
  const mod = await (await browser.newContext()).newPage();
  await signInAs(mod, moderatorEmail, 'moderator');
  await mod.goto('/moderation');
  await mod.getByRole('link', { name: 'Reported questions, answers and notes' }).click();
  const report = mod.getByRole('article').filter({ hasText: note });
  await expect(report.getByRole('heading', { name: `Adoption note from ${adopterName} on ${title}` })).toBeVisible();
  await expect(report).toContainText('It names a colleague.');
  await expect(report.getByRole('link', { name: 'Open the case study' })).toHaveAttribute('href', `/case-studies/${cs.id}`);
  await checkPage(mod, info, 'reports-adoption');
  await report.getByRole('button', { name: /^Remove/ }).click();
  await expect(mod.getByRole('status')).toHaveText('The adoption is removed and its reports are closed.');
  await expect(mod.getByRole('article').filter({ hasText: note })).toHaveCount(0);
  await reader.reload();
  await expect(reader.getByText('No team has recorded that it is trying this yet.')).toBeVisible();
});
