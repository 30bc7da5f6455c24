// Events, go-and-see visits and the register, in the browser: the organiser
// creates events with the form (London date and times), members book and are
// waitlisted and promoted, a host accepts a visit request on the event page,
// and the organiser marks attendance and exports the CSV.
import { readFile } from 'node:fs/promises';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { DOMAIN, apiSignIn, checkPage, signInAs, unique, type Role, API, api } from './helpers';

const member = (who: string) => `${who}@${DOMAIN}`;

async function homeOrganisation(): Promise<string> {
  const orgs = (await (await fetch(`${API()}/organisations`)).json()) as { items: { id: string; email_domains: string[] }[] };
  return orgs.items.find((o) => o.email_domains.includes(DOMAIN))!.id;
}

async function pageAs(browser: Browser, email: string, role: Role = 'member'): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signInAs(page, email, role);
  return page;
}

/** The London date `days` from now, as the form's day, month and year. */
function londonDate(days: number): { day: string; month: string; year: string } {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'numeric', year: 'numeric' }).formatToParts(new Date(Date.now() + days * 86_400_000));
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return { day: get('day'), month: get('month'), year: get('year') };
}

async function fillEventForm(page: Page, o: { kind: string; title: string; places: string }): Promise<void> {
  await page.getByRole('group', { name: 'Type of event' }).getByLabel(o.kind, { exact: true }).check();
  await page.getByLabel('Title').fill(o.title);
  await page.getByLabel('Description').fill('A practical session: bring a week of your own data.');
  const d = londonDate(30);
  const date = page.getByRole('group', { name: 'Date' });
  await date.getByLabel('Day').fill(d.day);
  await date.getByLabel('Month').fill(d.month);
  await date.getByLabel('Year').fill(d.year);
  await page.getByLabel('Start time').fill('10:00');
  await page.getByLabel('End time').fill('12:00');
  await page.getByLabel('Where').fill('Room 2, St James’s, Leeds');
  await page.getByLabel('Number of places').fill(o.places);
  await page.getByLabel('Hosted by').selectOption({ label: 'Leeds Teaching Hospitals' });
  await page.getByRole('group', { name: 'Topics' }).getByRole('checkbox').first().check();
}

test('the last place is booked, the next member waits, and is promoted when a place is freed', async ({ browser }, info) => {
  // Five browsers and eight accessibility checks: longer than the default minute on a busy machine.
  test.setTimeout(180_000);
  const title = unique(info, 'Run charts for beginners');
  const organiser = await pageAs(browser, member(`olu.organiser.${info.project.name}`), 'organiser');
  await organiser.goto('/events');
  await organiser.getByRole('link', { name: 'Create an event' }).click();
  await expect(organiser.getByRole('heading', { level: 1, name: 'Create an event' })).toBeVisible();
  // Submitting empty names every problem at once.
  await organiser.getByRole('button', { name: 'Create event' }).click();
  await expect(organiser.getByRole('alert')).toContainText('Choose the type of event');
  await expect(organiser.getByRole('alert')).toContainText('Enter a real date');
  await fillEventForm(organiser, { kind: 'Workshop', title, places: '1' });
  await checkPage(organiser, info, 'event-form');
  await organiser.getByRole('button', { name: 'Create event' }).click();
  await expect(organiser.getByRole('heading', { level: 1, name: title })).toBeVisible();
  await expect(organiser.getByText(/10:00 (GMT|BST) to .*12:00 (GMT|BST) \(London time\)/)).toBeVisible();
  const eventUrl = new URL(organiser.url()).pathname;

  // The list finds it by type and by host.
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto('/events');
  await visitor.getByLabel('Type').selectOption({ label: 'Workshop' });
  await visitor.getByLabel('Hosted by').selectOption({ label: 'Leeds Teaching Hospitals' });
  await visitor.getByRole('button', { name: 'Apply filters' }).click();
  await expect(visitor.getByRole('link', { name: title })).toBeVisible();
  await checkPage(visitor, info, 'events');
  await visitor.getByLabel('Type').selectOption({ label: 'Go and see visit' });
  await visitor.getByRole('button', { name: 'Apply filters' }).click();
  await expect(visitor.getByRole('link', { name: title })).toHaveCount(0);
  await visitor.goto(eventUrl);
  await expect(visitor.getByRole('link', { name: 'Sign in to book a place' })).toBeVisible();
  await expect(visitor.getByRole('link', { name: 'Add to calendar' })).toHaveAttribute('href', /calendar\.ics$/);
  await checkPage(visitor, info, 'event-signed-out');

  // Ann takes the only place.
  const ann = await pageAs(browser, member(`ann.${info.project.name}`));
  await ann.goto(eventUrl);
  await expect(ann.getByText('1 of 1 left')).toBeVisible();
  await ann.getByRole('button', { name: 'Book a place' }).click();
  await expect(ann.getByRole('status')).toContainText('You have a place');
  await expect(ann.getByText('You have a place at this event')).toBeVisible();
  await checkPage(ann, info, 'event-booked');

  // Bob, in another browser, finds it full and joins the waiting list.
  const bob = await pageAs(browser, member(`bob.${info.project.name}`));
  await bob.goto(eventUrl);
  await expect(bob.getByText('None left')).toBeVisible();
  await bob.getByRole('button', { name: 'Join the waiting list' }).click();
  await expect(bob.getByRole('status')).toContainText('waiting list: number 1');
  await checkPage(bob, info, 'event-waitlisted');

  // Ann cancels; Bob gets the place.
  await ann.getByRole('button', { name: 'Cancel my booking' }).click();
  await expect(ann.getByRole('status')).toContainText('Your booking is cancelled');
  await expect(ann.getByRole('button', { name: 'Join the waiting list' })).toBeVisible();
  await bob.reload();
  await expect(bob.getByText('You have a place at this event')).toBeVisible();
  await bob.getByRole('link', { name: 'My bookings' }).first().click();
  await expect(bob.getByRole('heading', { level: 1, name: 'My bookings' })).toBeVisible();
  await expect(bob.getByRole('row', { name: new RegExp(title) })).toContainText('Confirmed');
  await checkPage(bob, info, 'my-bookings');

  // The organiser sees Bob confirmed and can change the event.
  await organiser.reload();
  await expect(organiser.getByRole('row', { name: new RegExp(`bob ${info.project.name}`) })).toContainText('Confirmed');
  await organiser.getByRole('link', { name: 'Edit this event' }).click();
  await expect(organiser.getByRole('heading', { level: 1, name: 'Edit the event' })).toBeVisible();
  await expect(organiser.getByLabel('Start time')).toHaveValue('10:00');
  await checkPage(organiser, info, 'event-edit');
  await organiser.getByLabel('Number of places').fill('2');
  await organiser.getByRole('button', { name: 'Save changes' }).click();
  await expect(organiser.getByText('1 of 2 left')).toBeVisible();
  await checkPage(organiser, info, 'event-organiser');
});

test('a go-and-see request is accepted by the host on the event page', async ({ browser }, info) => {
  const title = unique(info, 'Visit the safety huddle');
  const host = await pageAs(browser, member(`hana.host.${info.project.name}`), 'organiser');
  await host.goto('/events/new');
  await fillEventForm(host, { kind: 'Go and see visit', title, places: '3' });
  await host.getByLabel('What visitors will see').fill('The 08:30 safety huddle on ward 7 and the board it uses.');
  await host.getByLabel('Who hosts').fill('Ward 7 sister');
  await host.getByRole('button', { name: 'Create event' }).click();
  await expect(host.getByRole('heading', { level: 1, name: title })).toBeVisible();
  const eventUrl = new URL(host.url()).pathname;

  const visitor = await pageAs(browser, member(`vic.visitor.${info.project.name}`));
  await visitor.goto(eventUrl);
  await expect(visitor.getByRole('heading', { level: 2, name: 'What you will see' })).toBeVisible();
  await expect(visitor.getByText('The 08:30 safety huddle on ward 7')).toBeVisible();
  await expect(visitor.getByText('Ward 7 sister')).toBeVisible();
  await checkPage(visitor, info, 'visit');
  await visitor.getByRole('button', { name: 'Ask to visit' }).click();
  await expect(visitor.getByRole('status')).toContainText('Your request to visit has been sent to the host');
  await expect(visitor.getByText('You have asked to visit')).toBeVisible();

  await host.reload();
  const who = `vic visitor ${info.project.name}`;
  await expect(host.getByRole('heading', { level: 3, name: 'Visit requests' })).toBeVisible();
  await checkPage(host, info, 'visit-requests');
  await host.getByRole('button', { name: `Accept ${who}` }).click();
  await expect(host.getByRole('status')).toContainText(`You accepted ${who}'s request`);
  await expect(host.getByRole('row', { name: new RegExp(who) })).toContainText('Confirmed');

  await visitor.reload();
  await expect(visitor.getByText('You have a place at this event')).toBeVisible();
});

test('the organiser marks who attended and exports the attendees as CSV', async ({ browser }, info) => {
  const organiserEmail = member(`oti.organiser.${info.project.name}`);
  const { token: organiserToken } = await apiSignIn(organiserEmail, 'organiser');
  await api(organiserToken, 'GET', '/me');
  const title = unique(info, 'Huddle skills');
  const soon = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const event = await api<{ id: string }>(organiserToken, 'POST', '/events', {
    kind: 'training', title, description: 'Short training before the ward round.', starts_at: soon(30), ends_at: soon(90),
    location: 'Seminar room 1', capacity: 5, host_organisation_id: await homeOrganisation(), topics: [],
  }, { 'idempotency-key': crypto.randomUUID() });
  // Two members book; one of them calls themself something a spreadsheet would run.
  const names: string[] = [];
  for (const [who, name] of [[`jo.${info.project.name}`, `=SUM(1+1) Jo ${info.project.name}`], [`kit.${info.project.name}`, `Kit ${info.project.name}`]] as const) {
    const { token } = await apiSignIn(member(who), 'member');
    const me = await api<{ version: number }>(token, 'GET', '/me');
    await api(token, 'PATCH', '/me', { name }, { 'if-match': `"${me.version}"` });
    await api(token, 'POST', `/events/${event.id}/bookings`);
    names.push(name);
  }

  const organiser = await pageAs(browser, organiserEmail, 'organiser');
  await organiser.goto(`/events/${event.id}`);
  await expect(organiser.getByRole('heading', { level: 2, name: 'Manage this event' })).toBeVisible();
  await organiser.getByRole('checkbox', { name: `${names[0]} attended` }).check();
  await checkPage(organiser, info, 'event-register');
  await organiser.getByRole('button', { name: 'Save attendance' }).click();
  await expect(organiser.getByRole('status')).toContainText('Attendance saved');
  await expect(organiser.getByRole('row', { name: new RegExp(`Jo ${info.project.name}`) })).toContainText('Attended');
  await expect(organiser.getByRole('checkbox', { name: `${names[0]} attended` })).toBeChecked();
  await expect(organiser.getByRole('checkbox', { name: `${names[1]} attended` })).not.toBeChecked();

  const download = organiser.waitForEvent('download');
  await organiser.getByRole('button', { name: 'Export attendees (CSV)' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe(`attendees-${event.id}.csv`);
  const csv = await readFile((await file.path())!, 'utf8');
  const lines = csv.replace(/^\uFEFF/, '').trim().split('\r\n');
  expect(lines[0]).toBe('"Name","Email","Organisation","Status","Waiting list position","Attended","Booked"');
  const jo = lines.find((l) => l.includes(`Jo ${info.project.name}`))!;
  expect(jo.startsWith(`"'=SUM(1+1) Jo ${info.project.name}"`), jo).toBe(true);
  expect(jo).toContain('"Confirmed","","Yes"');
  expect(lines.find((l) => l.includes(`Kit ${info.project.name}`))).toContain('"Confirmed","",""');
});
