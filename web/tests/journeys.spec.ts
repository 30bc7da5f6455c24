import { expect, test } from '@playwright/test';
import { DOMAIN, checkPage, openNav, pdf, signInAs, signInWithForm, unique } from './helpers';

const member = (who: string) => `${who}@${DOMAIN}`;

async function fillCaseStudy(page: import('@playwright/test').Page, title: string, results = 'Falls fell from 12 to 5 a month.') {
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Summary').fill('Hourly rounding halved falls on an older people’s ward.');
  await page.getByLabel('Aim', { exact: true }).fill('Halve inpatient falls on ward 5 by March.');
  await page.getByLabel('Background').fill('Falls were the most reported incident on the ward.');
  await page.getByLabel('What we did').fill('Six PDSA cycles of hourly rounding.');
  await page.getByLabel('Measures').fill('Falls per 1,000 bed days, weekly.');
  await page.getByLabel('Results').fill(results);
  await page.getByLabel('Lessons learned').fill('Start small, on one bay, with the night team.');
  await page.getByLabel('Contact').fill('Ward 5 practice development team');
}

test('a member shares a case study with an attachment, a moderator publishes it, and a visitor finds and reads it', async ({ browser }, info) => {
  const title = unique(info, 'Fewer falls on ward 5');
  // The member signs in with the form and shares.
  const memberPage = await (await browser.newContext()).newPage();
  await signInWithForm(memberPage, member(`jo.${info.project.name}`), 'member', info);
  await memberPage.goto('/case-studies/new');
  await expect(memberPage.getByRole('heading', { level: 1, name: 'Share a case study' })).toBeVisible();
  await checkPage(memberPage, info, 'share-case-study');
  await fillCaseStudy(memberPage, title);
  await memberPage.getByRole('group', { name: 'Topics' }).getByRole('checkbox').first().check();
  await memberPage.getByLabel('Attachments').setInputFiles(pdf());
  await memberPage.getByRole('button', { name: 'Submit for review' }).click();
  await expect(memberPage.getByText('Your case study is pending review')).toBeVisible();
  await expect(memberPage.getByRole('status').filter({ hasText: 'run-chart.pdf' })).toContainText(/Ready|Checking/, { timeout: 20_000 });
  await expect(memberPage.getByRole('status').filter({ hasText: 'run-chart.pdf' })).toContainText('Ready', { timeout: 20_000 });
  await checkPage(memberPage, info, 'case-study-submitted');
  await memberPage.getByRole('link', { name: 'See all your submissions' }).click();
  await expect(memberPage.getByRole('row', { name: new RegExp(title) })).toContainText('Pending review');
  await checkPage(memberPage, info, 'my-submissions');

  // The moderator publishes it.
  const modPage = await (await browser.newContext()).newPage();
  await signInAs(modPage, member(`sam.moderator.${info.project.name}`), 'moderator');
  await modPage.goto('/');
  await openNav(modPage, 'Moderation');
  await expect(modPage.getByRole('heading', { level: 1, name: 'Moderation' })).toBeVisible();
  await checkPage(modPage, info, 'moderation');
  await modPage.getByRole('link', { name: title }).click();
  await checkPage(modPage, info, 'review-case-study');
  await modPage.getByRole('button', { name: 'Publish' }).click();
  await expect(modPage.getByText('The case study is published.')).toBeVisible();

  // An anonymous visitor finds it by search and reads it.
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto('/');
  await checkPage(visitor, info, 'home');
  await visitor.getByLabel('Search', { exact: true }).fill('hourly rounding');
  await visitor.getByLabel('Search', { exact: true }).press('Enter');
  await expect(visitor.getByRole('heading', { level: 1, name: /Search results/ })).toBeVisible();
  await checkPage(visitor, info, 'search');
  await expect(visitor.locator('mark').first()).toBeVisible();
  await visitor.getByRole('link', { name: title }).click();
  await expect(visitor.getByRole('heading', { level: 1, name: title })).toBeVisible();
  for (const section of ['Aim', 'Background', 'What we did', 'Measures', 'Results', 'Lessons learned', 'Contact']) {
    await expect(visitor.getByRole('heading', { level: 2, name: section, exact: true })).toBeVisible();
  }
  await expect(visitor.getByText('Leeds Teaching Hospitals')).toBeVisible();
  const download = visitor.waitForEvent('download');
  await visitor.getByRole('link', { name: 'Download run-chart.pdf' }).click();
  expect((await download).suggestedFilename()).toBe('run-chart.pdf');
  await checkPage(visitor, info, 'case-study');
});

test('a held submission is edited and released by a moderator', async ({ browser }, info) => {
  const title = unique(info, 'Discharge letters');
  const memberPage = await (await browser.newContext()).newPage();
  await signInAs(memberPage, member(`ali.${info.project.name}`));
  await memberPage.goto('/case-studies/new');
  await fillCaseStudy(memberPage, title, 'The first patient, NHS number 943 476 5919, went home a day sooner.');
  await memberPage.getByRole('button', { name: 'Submit for review' }).click();
  await expect(memberPage.getByText('Your case study is pending review')).toBeVisible();
  await memberPage.goto('/my/submissions');
  await expect(memberPage.getByRole('row', { name: new RegExp(title) })).toContainText('Held');

  const modPage = await (await browser.newContext()).newPage();
  await signInAs(modPage, member(`sam.moderator.${info.project.name}`), 'moderator');
  await modPage.goto('/moderation');
  await modPage.getByRole('link', { name: title }).click();
  await expect(modPage.getByRole('button', { name: 'Release hold' })).toBeVisible();
  await checkPage(modPage, info, 'review-held');
  await modPage.getByRole('link', { name: 'Edit the submission' }).click();
  await modPage.getByLabel('Results').fill('The first patient went home a day sooner.');
  await modPage.getByRole('button', { name: 'Save changes' }).click();
  await expect(modPage.getByRole('heading', { level: 1, name: title })).toBeVisible();
  await modPage.goto('/moderation');
  await modPage.getByRole('link', { name: title }).click();
  await modPage.getByRole('button', { name: 'Release hold' }).click();
  await expect(modPage.getByText('The hold is released.')).toBeVisible();
  await modPage.getByRole('button', { name: 'Publish' }).click();
  await expect(modPage.getByText('The case study is published.')).toBeVisible();
});

test('a resource is shared, published and downloaded', async ({ browser }, info) => {
  const title = unique(info, 'PDSA cycle template');
  const memberPage = await (await browser.newContext()).newPage();
  await signInAs(memberPage, member(`kim.${info.project.name}`));
  await memberPage.goto('/');
  await openNav(memberPage, 'Resources');
  await checkPage(memberPage, info, 'resources');
  await memberPage.getByRole('link', { name: 'Share a resource' }).click();
  await checkPage(memberPage, info, 'share-resource');
  await memberPage.getByLabel('Title').fill(title);
  await memberPage.getByLabel('Description').fill('A one-page template for planning a PDSA cycle.');
  await memberPage.getByLabel('Type').selectOption('template');
  await memberPage.getByLabel('Upload a file').check();
  await memberPage.getByLabel('File', { exact: true }).setInputFiles(pdf('pdsa-template.pdf'));
  await memberPage.getByRole('button', { name: 'Submit for review' }).click();
  await expect(memberPage.getByText('Your resource is pending review')).toBeVisible();
  await expect(memberPage.getByRole('status').filter({ hasText: 'pdsa-template.pdf' })).toContainText('Ready', { timeout: 20_000 });

  const modPage = await (await browser.newContext()).newPage();
  await signInAs(modPage, member(`sam.moderator.${info.project.name}`), 'moderator');
  await modPage.goto('/moderation');
  await modPage.getByRole('link', { name: title }).click();
  await modPage.getByRole('button', { name: 'Publish' }).click();
  await expect(modPage.getByText('The resource is published.')).toBeVisible();

  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto('/resources');
  await visitor.getByRole('link', { name: title }).click();
  await checkPage(visitor, info, 'resource');
  const download = visitor.waitForEvent('download');
  await visitor.getByRole('link', { name: /Download/ }).click();
  expect((await download).suggestedFilename()).toBe('pdsa-template.pdf');
  await visitor.reload();
  await expect(visitor.getByRole('definition').filter({ hasText: /^1$/ })).toBeVisible();
});

test('digest settings are changed and previewed', async ({ page }, info) => {
  await signInAs(page, member(`pat.${info.project.name}`));
  await page.goto('/settings/digest');
  await expect(page.getByRole('heading', { level: 1, name: 'Digest email' })).toBeVisible();
  await page.getByLabel('Monthly').check();
  await page.getByRole('group', { name: 'Topics' }).getByRole('checkbox').first().check();
  await page.getByRole('button', { name: 'Save digest settings' }).click();
  await expect(page.getByText('Your digest settings are saved.')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Monthly')).toBeChecked();
  await page.getByRole('button', { name: 'Preview the next digest' }).click();
  const frame = page.frameLocator('iframe[title="Preview of your next digest"]');
  await expect(frame.locator('body')).not.toBeEmpty();
  await checkPage(page, info, 'settings-digest');
});

test('an admin adds an organisation and a new member from its domain signs in', async ({ browser }, info) => {
  const domain = `${info.project.name}-hospice.org.uk`;
  const adminPage = await (await browser.newContext()).newPage();
  await signInAs(adminPage, member(`first.admin`), 'admin');
  await adminPage.goto('/');
  await openNav(adminPage, 'Admin');
  await checkPage(adminPage, info, 'admin');
  await adminPage.getByRole('link', { name: 'Add an organisation' }).click();
  await adminPage.getByLabel('Name').fill(`Wheatfields Hospice ${info.project.name}`);
  await adminPage.getByLabel('Type').selectOption('voluntary');
  await adminPage.getByLabel('Email domains').fill(domain);
  await checkPage(adminPage, info, 'admin-organisation');
  await adminPage.getByRole('button', { name: 'Add organisation' }).click();
  await expect(adminPage.getByRole('link', { name: `Wheatfields Hospice ${info.project.name}` })).toBeVisible();

  const newcomer = await (await browser.newContext()).newPage();
  await signInWithForm(newcomer, `nurse@${domain}`, 'member', info, '/settings/profile');
  await expect(newcomer.getByRole('heading', { level: 1, name: 'Your profile' })).toBeVisible();

  const stranger = await (await browser.newContext()).newPage();
  await stranger.goto('/sign-in');
  await stranger.getByLabel('Email address').fill('someone@not-a-member.example');
  await stranger.getByRole('button', { name: 'Sign in' }).click();
  await expect(stranger.getByRole('alert')).toBeVisible();
  await expect(stranger.getByRole('alert')).toBeFocused();
});

test('roles are granted and revoked', async ({ page }, info) => {
  await signInAs(page, member('first.admin'), 'admin');
  await page.goto('/admin/roles');
  const who = member(`new.moderator.${info.project.name}`);
  await page.getByLabel('Email address').fill(who);
  await page.getByLabel('Role').selectOption('moderator');
  await page.getByRole('button', { name: 'Grant role' }).click();
  await expect(page.getByRole('row', { name: new RegExp(who) })).toBeVisible();
  await checkPage(page, info, 'admin-roles');
  await page.getByRole('button', { name: `Revoke Moderator from ${who}` }).click();
  await expect(page.getByRole('row', { name: new RegExp(who) })).toHaveCount(0);
});

test('share a case study with the keyboard only', async ({ page }, info) => {
  await signInAs(page, member(`kb.${info.project.name}`));
  await page.goto('/case-studies/new');
  const title = unique(info, 'Keyboard only');
  // Submitting empty shows every error at once, linked to its field.
  await page.getByRole('button', { name: 'Submit for review' }).focus();
  await page.keyboard.press('Enter');
  const summary = page.getByRole('alert');
  await expect(summary).toBeFocused();
  await expect(summary.getByRole('link', { name: 'Enter a title' })).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(summary.getByRole('link', { name: 'Enter a title' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Title')).toBeFocused();
  await page.keyboard.type(title);
  // Tab through every field in order, typing into each.
  const typed: [string, string][] = [
    ['Summary', 'Typed with the keyboard.'],
    ['Aim', 'Show the form works without a mouse.'],
    ['Background', 'Some staff use only a keyboard.'],
    ['What we did', 'Tabbed through the form.'],
    ['Measures', 'Whether it submits.'],
    ['Results', 'It did.'],
    ['Lessons learned', 'Test with the keyboard.'],
    ['Contact', 'The web team'],
  ];
  for (const [label, text] of typed) {
    await page.keyboard.press('Tab');
    await expect(page.getByLabel(label, { exact: label === 'Aim' })).toBeFocused();
    await page.keyboard.type(text);
  }
  await page.keyboard.press('Tab');
  await page.keyboard.press('Space'); // the first topic
  await expect(page.getByRole('group', { name: 'Topics' }).getByRole('checkbox').first()).toBeChecked();
  await page.getByRole('button', { name: 'Submit for review' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByText('Your case study is pending review')).toBeVisible();
  await checkPage(page, info, 'share-keyboard-done');
});

test('every navigation link opens a page, and an unknown path says page not found', async ({ page }, info) => {
  await signInAs(page, member(`nav.${info.project.name}`), 'admin');
  await page.goto('/');
  for (const [name, h1] of [
    ['Case studies', 'Case studies'],
    ['Resources', 'Resources'],
    ['Events', 'Events'],
    ['Mentoring', 'Mentoring and coaching'],
    ['Projects', 'Projects'],
    ['Moderation', 'Moderation'],
    ['Admin', 'Admin'],
  ] as const) {
    await openNav(page, name);
    await expect(page.getByRole('heading', { level: 1, name: h1 })).toBeVisible();
    await checkPage(page, info, `nav-${name.toLowerCase().replace(/ /g, '-')}`);
  }
  for (const path of ['/settings', '/settings/profile', '/settings/coffee', '/settings/calendar']) {
    await page.goto(path);
    await checkPage(page, info, `page${path.replace(/\//g, '-')}`);
  }
  await page.goto('/no/such/page');
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await checkPage(page, info, 'not-found');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();
});
