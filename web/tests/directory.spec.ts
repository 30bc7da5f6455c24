// The directory in the browser: listed members filtered by topic and by
// organisation, with the mentor badge, and the organisations with their type
// and member counts.
import { expect, test } from '@playwright/test';
import { DOMAIN, apiSignIn, checkPage, openNav, signInAs, API, api } from './helpers';


/** Signs a member in and lists them in the directory with a name and topics. */
async function listed(email: string, name: string, jobTitle: string, topics: string[]): Promise<string> {
  const { token } = await apiSignIn(email, 'member');
  const me = await api<{ version: number }>(token, 'GET', '/me');
  await api(token, 'PATCH', '/me', { name, job_title: jobTitle, topics, listed: true }, { 'if-match': `"${me.version}"` });
  return token;
}

test('the directory lists members by topic and organisation, and organisations with their counts', async ({ page }, info) => {
  const p = info.project.name;
  const stamp = Date.now().toString(36);
  const topics = ((await (await fetch(`${API()}/topics`)).json()) as { items: { id: string; name: string }[] }).items;
  const [first, second] = [topics[0]!, topics[1]!];
  // A second organisation, with one member who mentors.
  const { token: admin } = await apiSignIn(`first.admin@${DOMAIN}`, 'admin');
  const orgName = `Harrogate District ${p} ${stamp}`;
  const domain = `hdft-${p}-${stamp}.nhs.uk`;
  await api(admin, 'POST', '/organisations', { name: orgName, type: 'nhs', email_domains: [domain] }, { 'idempotency-key': crypto.randomUUID() });
  const priya = `Priya ${p} ${stamp}`;
  const dan = `Dan ${p} ${stamp}`;
  await listed(`priya.${p}@${DOMAIN}`, priya, 'Improvement advisor', [first.id]);
  const danToken = await listed(`dan@${domain}`, dan, 'Charge nurse', [second.id]);
  await api(danToken, 'PUT', '/me/mentor', {
    offers: ['mentoring'], topics: [second.id], skills: ['process mapping'], capacity: 1,
    availability: { modes: ['online'] }, bio: 'Ten years of ward improvement.', accepting: true,
  });

  await signInAs(page, `dir.${p}@${DOMAIN}`);
  await page.goto('/');
  await openNav(page, 'Members');
  await expect(page.getByRole('heading', { level: 1, name: 'Members' })).toBeVisible();
  await checkPage(page, info, 'members');

  await page.getByLabel('Topic', { exact: true }).selectOption({ label: first.name });
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page.getByRole('heading', { level: 2, name: priya })).toBeVisible();
  await expect(page.getByText('Improvement advisor, Leeds Teaching Hospitals').first()).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: new RegExp(dan) })).toHaveCount(0);

  await page.getByLabel('Topic', { exact: true }).selectOption({ label: 'All topics' });
  await page.getByLabel('Organisation', { exact: true }).selectOption({ label: orgName });
  await page.getByRole('button', { name: 'Apply filters' }).click();
  const danEntry = page.getByRole('listitem').filter({ has: page.getByRole('heading', { level: 2, name: new RegExp(dan) }) });
  await expect(danEntry).toContainText('Mentor');
  await expect(danEntry).toContainText(`Charge nurse, ${orgName}`);
  await expect(page.getByRole('heading', { level: 2, name: priya })).toHaveCount(0);
  await checkPage(page, info, 'members-filtered');

  await page.getByRole('link', { name: 'See every organisation in the network' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Organisations' })).toBeVisible();
  const row = page.getByRole('row', { name: new RegExp(orgName) });
  await expect(row.getByRole('cell').nth(1)).toHaveText('NHS');
  await expect(row.getByRole('cell').nth(2)).toHaveText('1');
  await checkPage(page, info, 'organisations');
});
