// "My QI portfolio" in the browser (issue 23): a member with some activity
// (seeded through the API) opens it from the account links, sees their items
// with dates, narrows the period, downloads the CSV, and prints it as an
// appraisal document (no navigation, no buttons).
import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { DOMAIN, API, api, apiSignIn, checkPage, signInAs, unique } from './helpers';

test('a member sees, filters, downloads and prints their QI portfolio', async ({ page }, info) => {
  const email = `pat.portfolio.${info.project.name}@${DOMAIN}`;
  const token = (await apiSignIn(email, 'member')).token;
  const moderator = (await apiSignIn(`mod.portfolio.${info.project.name}@${DOMAIN}`, 'moderator')).token;
  const projectTitle = unique(info, 'Fewer falls on ward 5');
  const csTitle = unique(info, '=1+1 hourly rounding');
  const orgs = (await (await fetch(`${API()}/organisations`)).json()) as { items: { id: string; name: string; email_domains: string[] }[] };
  const home = orgs.items.find((o) => o.email_domains.includes(DOMAIN))!;
  const project = await api<{ id: string }>(token, 'POST', '/projects', {
    title: projectTitle, aim: 'Halve inpatient falls on ward 5 by March 2027', organisation_ids: [home.id], team: [], topics: [],
    status: 'active',
  });
  await api(token, 'POST', `/projects/${project.id}/pdsa`, {
    title: 'Falls huddle at 8am', plan: 'Try a falls huddle at 8am on ward 5', started_on: '2025-02-03', ended_on: '2025-02-17', points: [],
  });
  const cs = await api<{ id: string; version: number }>(token, 'POST', '/case-studies', { title: csTitle, body: 'Six PDSA cycles of hourly rounding.' });
  await api(moderator, 'POST', `/case-studies/${cs.id}/publish`, undefined, { 'if-match': `"${cs.version}"` });

  await signInAs(page, email);
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'My QI portfolio' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'My QI portfolio' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Whose portfolio' })).toContainText(home.name);
  const projects = page.getByRole('region', { name: 'Projects and roles' });
  await expect(projects.getByRole('row', { name: new RegExp(projectTitle) })).toContainText('Lead (project active)');
  const pdsa = page.getByRole('region', { name: 'PDSA cycles' });
  await expect(pdsa.getByRole('row', { name: /Falls huddle at 8am/ })).toContainText('3 February 2025');
  await expect(page.getByRole('region', { name: 'Case studies' }).getByRole('link', { name: csTitle })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Events attended' })).toContainText('Nothing recorded in this period.');
  await checkPage(page, info, 'portfolio');

  // Last year only: the PDSA cycle stays, this year's case study goes.
  await page.getByLabel('From', { exact: true }).fill('2025-01-01');
  await page.getByLabel('To', { exact: true }).fill('2025-12-31');
  await page.getByRole('button', { name: 'Show this period' }).click();
  await expect(page).toHaveURL(/from=2025-01-01&to=2025-12-31/);
  await expect(page.getByText('1 January 2025 to 31 December 2025')).toBeVisible();
  await expect(pdsa.getByRole('row', { name: /Falls huddle at 8am/ })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Case studies' })).toContainText('Nothing recorded in this period.');
  await checkPage(page, info, 'portfolio-period');

  // The CSV of that period: one row per activity, the formula-like title neutralised when it is in the period.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
  expect(download.suggestedFilename()).toBe('qi-portfolio.csv');
  const csv = await readFile((await download.path())!, 'utf8');
  expect(csv.startsWith('\uFEFF')).toBe(true); // a byte order mark, so spreadsheets read UTF-8
  const lines = csv.slice(1).trim().split('\r\n');
  expect(lines[0]).toBe('Section,Date,Title,Role or detail,Link');
  expect(lines.slice(1)).toEqual([`PDSA cycles,2025-02-03,Falls huddle at 8am,Recorded by you on “${projectTitle}”,${new URL(`/projects/${project.id}`, page.url()).href}`]);
  await page.goto('/my/portfolio');
  const [all] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
  const allCsv = await readFile((await all.path())!, 'utf8');
  expect(allCsv).toContain(`'${csTitle}`);
  expect(allCsv).not.toMatch(/(^|,)=1\+1/m);

  // Printed: the document only, black on white, links written out (the print
  // layout applies while <body> carries the portfolio page's class).
  await expect(page.locator('body')).toHaveClass(/\bqnet-portfolio-page\b/);
  await page.emulateMedia({ media: 'print' });
  await expect(page.getByRole('navigation', { name: 'Account' })).toBeHidden();
  await expect(page.locator('header').first()).toBeHidden();
  await expect(page.getByRole('button', { name: 'Print' })).toBeHidden();
  await expect(page.getByRole('link', { name: 'Download CSV' })).toBeHidden();
  await expect(page.getByRole('heading', { level: 1, name: 'My QI portfolio' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Whose portfolio' })).toContainText(home.name);
  const after = await page
    .getByRole('region', { name: 'Case studies' })
    .getByRole('link', { name: csTitle })
    .evaluate((a) => getComputedStyle(a, '::after').content);
  expect(after).toContain(`/case-studies/${cs.id}`);
  const colour = await page.getByRole('heading', { level: 1 }).evaluate((el) => getComputedStyle(el).color);
  expect(colour).toBe('rgb(0, 0, 0)');
  await page.screenshot({ path: `test-results/screens/${info.project.name}/portfolio-print.png`, fullPage: true });
  await page.emulateMedia({ media: 'screen' });
  await expect(page.getByRole('button', { name: 'Print' })).toBeVisible();

  // Another page, reached within the app: the portfolio's print layout (its body class) has gone with it.
  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'My submissions' }).click();
  await expect(page).toHaveURL(/\/my\/submissions/);
  await expect(page.locator('body')).not.toHaveClass(/\bqnet-portfolio-page\b/);
});
