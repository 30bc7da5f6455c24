// Sharing successes outward in the browser (issue 22): a moderator makes a
// published case study a highlight, it leads the home page, and the case
// study offers its share link (whose page a link-preview crawler reads).
import { expect, test } from '@playwright/test';
import { DOMAIN, apiSignIn, checkPage, signInAs, unique, api } from './helpers';

const member = (who: string) => `${who}@${DOMAIN}`;

test('a moderator makes a case study a highlight; it leads the home page and its share link previews it', async ({ browser }, info) => {
  const title = unique(info, 'Discharge before noon');
  const author = (await apiSignIn(member(`author.share.${info.project.name}`), 'member')).token;
  const moderatorEmail = member(`mod.share.${info.project.name}`);
  const moderator = (await apiSignIn(moderatorEmail, 'moderator')).token;
  const cs = await api<{ id: string; version: number }>(author, 'POST', '/case-studies', { title, summary: 'Ward rounds before 10 moved discharges earlier.', body: 'Four PDSA cycles.' });
  await api(moderator, 'POST', `/case-studies/${cs.id}/publish`, undefined, { 'if-match': `"${cs.version}"` });

  const page = await (await browser.newContext()).newPage();
  await signInAs(page, moderatorEmail, 'moderator');
  await page.goto(`/case-studies/${cs.id}`);
  await expect(page.getByRole('heading', { level: 2, name: 'Share this case study' })).toBeVisible();
  const shareLink = await page.getByLabel('Link to share').inputValue();
  expect(shareLink).toContain(`/share/case-studies/${cs.id}`);
  await checkPage(page, info, 'case-study-share');
  await page.getByRole('button', { name: 'Make this a highlight' }).click();
  await expect(page.getByText('This case study is a highlight')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Remove from highlights' })).toBeVisible();

  // The home page leads with it, signed in or not.
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto('/');
  const highlights = visitor.getByRole('heading', { level: 2, name: 'Highlights' });
  await expect(highlights).toBeVisible();
  // It is in the highlights and in the latest case studies: the highlight comes first.
  const links = visitor.getByRole('link', { name: title });
  await expect(links).toHaveCount(2);
  const [hy, ly] = await Promise.all([highlights.boundingBox(), links.first().boundingBox()]);
  expect(ly!.y).toBeGreaterThan(hy!.y);
  await expect(visitor.getByRole('heading', { level: 2, name: 'Latest case studies' })).toBeVisible();
  const latest = await visitor.getByRole('heading', { level: 2, name: 'Latest case studies' }).boundingBox();
  expect(ly!.y).toBeLessThan(latest!.y);
  await checkPage(visitor, info, 'home-highlights');

  // A link-preview crawler gets the title and summary from the share link.
  const crawled = await (await fetch(shareLink, { headers: { 'user-agent': 'Slackbot-LinkExpanding 1.0' } })).text();
  expect(crawled).toContain(`<meta property="og:title" content="${title}">`);
  // A person following it lands on the case study.
  await visitor.goto(shareLink);
  await expect(visitor.getByRole('heading', { level: 1, name: title })).toBeVisible();

  await page.getByRole('button', { name: 'Remove from highlights' }).click();
  await expect(page.getByRole('button', { name: 'Make this a highlight' })).toBeVisible();
});
