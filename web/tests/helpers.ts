import AxeBuilder from '@axe-core/playwright';
import path from 'node:path';
import { expect, type Page, type TestInfo } from '@playwright/test';

export const DOMAIN = 'leedsth.nhs.uk';
export type Role = 'member' | 'organiser' | 'moderator' | 'admin';

/** The API under test (`qnet serve`, started by the Playwright config). */
export const API = (): string => process.env.QNET_API_URL!;

/** One API call as `token`, for arranging what a journey needs; throws on a refusal. */
export async function api<T = unknown>(token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const r = await fetch(`${API()}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return (r.status === 204 ? undefined : await r.json()) as T;
}

/** The local sign-in endpoint, for speed after the UI sign-in has been tested. */
export async function apiSignIn(email: string, role: Role): Promise<{ token: string; expires_at: number }> {
  const api = process.env.QNET_API_URL!;
  const r = await fetch(`${api}/_local/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: process.env.QNET_WEB_URL! },
    body: JSON.stringify({ email, role }),
  });
  if (!r.ok) throw new Error(`local sign-in refused ${email}: ${r.status} ${await r.text()}`);
  return (await r.json()) as { token: string; expires_at: number };
}

/** Signs in through the /sign-in page, as a person does. */
export async function signInWithForm(page: Page, email: string, role: Role, info: TestInfo, returnTo = '/'): Promise<void> {
  await page.goto(`/sign-in?return=${encodeURIComponent(returnTo)}`);
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await checkPage(page, info, 'sign-in');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Role').selectOption(role);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

/** Signs in through the endpoint and puts the token where the app keeps it. */
export async function signInAs(page: Page, email: string, role: Role = 'member'): Promise<void> {
  const { token, expires_at } = await apiSignIn(email, role);
  await page.addInitScript(
    ([t, e]) => sessionStorage.setItem('qnet.local.session', JSON.stringify({ token: t, expiresAt: e })),
    [token, expires_at] as const,
  );
}

export function unique(info: TestInfo, what: string): string {
  return `${what} ${info.project.name} ${Date.now().toString(36)}`;
}

/**
 * Every page visited: axe-core finds no serious or critical violation, the
 * page does not scroll sideways at phone width, and a screenshot is kept.
 */
export async function checkPage(page: Page, info: TestInfo, name: string): Promise<void> {
  await expect(page.getByRole('heading', { level: 1 })).toHaveCount(1);
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), `accessibility of ${name}`).toEqual([]);
  const width = page.viewportSize()?.width ?? 0;
  if (width <= 400) {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${name} scrolls sideways at ${width}px`).toBeLessThanOrEqual(0);
  }
  await page.screenshot({ path: screenPath(info, name), fullPage: true });
}

/** web/test-results/screens/<project>/<name>.png, from the config's directory
 *  (outputPath refuses paths outside the test's own output folder). */
export function screenPath(info: TestInfo, name: string): string {
  const root = path.dirname(info.config.configFile ?? path.resolve('playwright.config.ts'));
  return path.join(root, 'test-results', 'screens', info.project.name, `${name}.png`);
}

/** A link in the main navigation (at phone width it may sit under "More"). */
export async function openNav(page: Page, name: string): Promise<void> {
  const nav = page.getByRole('navigation', { name: 'Menu' });
  const link = nav.getByRole('link', { name, exact: true });
  if (!(await link.isVisible())) {
    const more = nav.getByRole('button', { name: /More/ });
    if (await more.isVisible()) await more.click();
  }
  await link.click();
}


/** A small, well-formed PDF with one page of text (the upload check reads a
 *  PDF's text and holds one it cannot parse), with a correct cross-reference table. */
export function pdf(name = 'run-chart.pdf'): { name: string; mimeType: string; buffer: Buffer } {
  const text = 'BT /F1 18 Tf 72 720 Td (Falls per week, run chart) Tj ET';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${text.length} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) body += `${String(off).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return { name, mimeType: 'application/pdf', buffer: Buffer.from(body, 'latin1') };
}
