// Insights in the browser: the nav link for signed-in members, the tables with
// their charts, the filters as a form, "fewer than 5" where a count could
// point at a few people, a CSV per table, and the error summary for a bad month.
import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { DOMAIN, apiSignIn, api, checkPage, openNav, signInAs } from './helpers';

test('a member reads the insights, filters them and downloads a table as CSV', async ({ page }, info) => {
  const p = info.project.name;
  const stamp = Date.now().toString(36);
  const { token: admin } = await apiSignIn(`first.admin@${DOMAIN}`, 'admin');
  const orgName = `Wakefield Carers ${p} ${stamp}`;
  const domain = `carers-${p}-${stamp}.org.uk`;
  const org = await api<{ id: string }>(admin, 'POST', '/organisations', { name: orgName, type: 'voluntary', email_domains: [domain] }, { 'idempotency-key': crypto.randomUUID() });
  const { token: member } = await apiSignIn(`vi@${domain}`, 'member');
  await api(member, 'POST', '/projects', {
    title: 'Carers on the ward', aim: 'Every carer asked about their own needs by June 2027',
    organisation_ids: [org.id], team: [], topics: [], status: 'active',
  }, { 'idempotency-key': crypto.randomUUID() });

  await signInAs(page, `vi@${domain}`);
  await page.goto('/');
  await openNav(page, 'Insights');
  await expect(page.getByRole('heading', { level: 1, name: 'Insights' })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Projects by status' })).toBeVisible();
  await expect(page.getByRole('img', { name: /Projects by status, all organisations/ })).toBeVisible();
  await expect(page.getByText('rounded to the nearest 5')).toBeVisible();
  for (const caption of ['People working together in the period', 'Coffee pairs across types of organisation']) {
    await expect(page.getByRole('table', { name: caption })).toBeVisible();
  }
  await expect(page.getByRole('table', { name: 'People working together in the period' }).getByRole('columnheader', { name: 'Event places attended' })).toBeVisible();
  await checkPage(page, info, 'insights');

  await page.getByLabel('Organisation type').selectOption({ label: 'Voluntary sector' });
  await page.getByLabel('Organisation', { exact: true }).selectOption({ label: orgName });
  await page.getByRole('button', { name: 'Show insights' }).click();
  const row = page.getByRole('table', { name: 'Projects by status' }).getByRole('row', { name: new RegExp(orgName) });
  await expect(row).toContainText('fewer than 5');
  await expect(page.getByRole('table', { name: 'Projects by status' }).getByRole('row')).toHaveCount(4);
  await checkPage(page, info, 'insights-filtered');

  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download CSV of Projects by status' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('insights-projects_by_status.csv');
  const csv = (await readFile((await file.path())!, 'utf8')).replace(/^\uFEFF/, '');
  expect(csv.split('\r\n')[0]).toContain('"Organisation","Scope","All projects"');
  expect(csv).toContain(`"${orgName}","organisation","fewer than 5"`);

  await page.getByLabel('From month').fill('soon');
  await page.getByRole('button', { name: 'Show insights' }).click();
  await expect(page.getByRole('alert')).toContainText('There is a problem');
  await expect(page.getByRole('alert')).toContainText('From month');
  await checkPage(page, info, 'insights-error');
});
