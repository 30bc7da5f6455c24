// Similar work before duplicating it, in the browser (issue 22): while
// registering a project or sharing a case study, the panel "Similar work
// already in the network" fills in from the draft; a member follows a project
// and asks its lead to team up; an unmatched draft shows the empty state.
import { expect, test } from '@playwright/test';
import { API, DOMAIN, api, apiSignIn, checkPage, signInAs, unique } from './helpers';

const member = (who: string) => `${who}@${DOMAIN}`;

test('a member registering a project sees similar work, follows it and asks its lead to team up', async ({ page }, info) => {
  const projectTitle = unique(info, 'Falls in care homes');
  const suffix = projectTitle.slice('Falls in care homes '.length);
  const lead = (await apiSignIn(member(`lead.similar.${info.project.name}`), 'member')).token;
  const orgs = (await (await fetch(`${API()}/organisations`)).json()) as { items: { id: string; name: string; email_domains: string[] }[] };
  const home = orgs.items.find((o) => o.email_domains.includes(DOMAIN))!;
  await api(lead, 'POST', '/projects', {
    title: projectTitle, aim: 'Halve falls in our care homes by June 2027', organisation_ids: [home.id], team: [],
    topics: ['patient-safety'], status: 'active',
  });

  await signInAs(page, member(`drafter.similar.${info.project.name}`));
  await page.goto('/projects/new');
  await expect(page.getByRole('heading', { level: 2, name: 'Similar work already in the network' })).toBeVisible();
  await checkPage(page, info, 'similar-panel-start');

  // Nothing like it yet: the empty state, from the keyboard-friendly button.
  await page.getByLabel('Title', { exact: true }).fill("Qwzx vbnmp kjhgf");
  await page.getByRole('button', { name: 'Check for similar work' }).click();
  await expect(page.getByText('No similar work found yet.')).toBeVisible();
  await checkPage(page, info, 'similar-panel-empty');

  // Leaving the aim fills the panel in.
  await page.getByLabel('Title', { exact: true }).fill(`Preventing falls in care homes ${suffix}`);
  await page.getByLabel('Aim', { exact: true }).fill('Reduce falls in our care homes by a third');
  await page.getByLabel('Aim', { exact: true }).blur();
  const similar = page.getByRole('list', { name: 'Similar work' });
  const item = similar.getByRole('listitem').filter({ has: page.getByRole('link', { name: projectTitle }) });
  await expect(item).toBeVisible();
  await expect(item).toContainText('Project');
  await expect(item).toContainText(`${home.name} (NHS)`);
  await expect(item).toContainText('Team: ');
  await checkPage(page, info, 'similar-panel-results');

  await item.getByRole('button', { name: `Follow ${projectTitle}` }).click();
  await expect(item.getByRole('button', { name: `Following ${projectTitle}` })).toBeVisible();

  await item.getByRole('button', { name: `Ask the lead to team up ${projectTitle}` }).click();
  await item.getByLabel('Message to the project lead').fill('We are starting the same work in Leeds. Shall we share run charts?');
  await checkPage(page, info, 'similar-panel-team-up');
  await item.getByRole('button', { name: 'Send' }).click();
  await expect(item.getByText('Your message has been sent')).toBeVisible();
  await expect(page.locator(':focus')).toHaveText('Your message has been sent');
  await checkPage(page, info, 'similar-panel-sent');
});

test('sharing a case study shows similar projects from the draft', async ({ page }, info) => {
  const projectTitle = unique(info, 'Hydration rounds on older wards');
  const suffix = projectTitle.slice('Hydration rounds on older wards '.length);
  const lead = (await apiSignIn(member(`lead.hydrate.${info.project.name}`), 'member')).token;
  const orgs = (await (await fetch(`${API()}/organisations`)).json()) as { items: { id: string; email_domains: string[] }[] };
  const home = orgs.items.find((o) => o.email_domains.includes(DOMAIN))!;
  await api(lead, 'POST', '/projects', {
    title: projectTitle, aim: 'Every patient offered a drink hourly', organisation_ids: [home.id], team: [], topics: [], status: 'idea',
  });
  await signInAs(page, member(`writer.hydrate.${info.project.name}`));
  await page.goto('/case-studies/new');
  await page.getByLabel('Title', { exact: true }).fill(`Hydration rounds ${suffix}`);
  await page.getByRole('button', { name: 'Check for similar work' }).click();
  const similar = page.getByRole('list', { name: 'Similar work' });
  await expect(similar.getByRole('link', { name: projectTitle })).toBeVisible();
  await checkPage(page, info, 'share-case-study-similar');
});
