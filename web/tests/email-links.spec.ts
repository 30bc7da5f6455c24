// After the journeys (this file runs in the "emails" project, which depends on
// both journey projects): every link in every email they put in the local
// outbox opens a real page. Links to the web origin open in the browser and
// must not say "Page not found"; links to the API origin (unsubscribe,
// confirmations, offers, visit requests) must answer an HTML page, not the
// API's no-such-route problem.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { checkPage } from './helpers';

const API = process.env.QNET_API_URL!;
const WEB = process.env.QNET_WEB_URL!;

interface Mail {
  file: string;
  subject: string;
  links: string[];
}

/** Header lines of a MIME entity, with folded lines joined, keyed lower-case. */
function parseHeaders(head: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) {
      const k = line.slice(0, i).trim().toLowerCase();
      if (!headers.has(k)) headers.set(k, line.slice(i + 1).trim());
    }
  }
  return headers;
}

function param(value: string, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return m ? (m[1] ?? m[2]) : undefined;
}

function decodeBody(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable': {
      const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    }
    default:
      return body;
  }
}

/** The decoded text of every text/plain and text/html part of a raw message. */
function textParts(raw: string): { type: string; text: string }[] {
  const split = /\r?\n\r?\n/.exec(raw);
  const head = split ? raw.slice(0, split.index) : raw;
  const body = split ? raw.slice(split.index + split[0].length) : '';
  const headers = parseHeaders(head);
  const type = headers.get('content-type') ?? 'text/plain';
  if (/^multipart\//i.test(type)) {
    const boundary = param(type, 'boundary');
    if (!boundary) return [];
    const parts = body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \\t]*\\r?\\n?`));
    return parts.filter((p) => p.trim() !== '').flatMap(textParts);
  }
  if (!/^text\/(plain|html)/i.test(type)) return [];
  return [{ type: type.split(';')[0]!.toLowerCase(), text: decodeBody(body, headers.get('content-transfer-encoding') ?? '7bit') }];
}

function linksIn(parts: { type: string; text: string }[]): string[] {
  const found = new Set<string>();
  for (const { type, text } of parts) {
    if (type === 'text/html') {
      for (const m of text.matchAll(/href\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)) {
        found.add((m[1] ?? m[2] ?? '').replace(/&amp;/g, '&').replace(/&#x2F;/gi, '/').replace(/&#47;/g, '/').trim());
      }
    } else {
      for (const m of text.matchAll(/https?:\/\/[^\s<>"')\]]+/g)) found.add(m[0].replace(/[.,;:]+$/, ''));
    }
  }
  return [...found].filter((u) => /^https?:\/\//.test(u));
}

/** Runs `qnet digest --now <at>` over the journeys' data, as the scheduler would. */
function sendDigests(at: Date): void {
  const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const bin = path.resolve(web, process.env.QNET_BIN ?? '../target/debug/qnet');
  const out = execFileSync(bin, ['digest', '--data-dir', process.env.QNET_TEST_DATA!, '--now', at.toISOString().replace(/\.\d{3}Z$/, 'Z')], {
    cwd: path.resolve(web, '..'),
    encoding: 'utf8',
    // The links the running `qnet serve` would write (it learns them from --addr/--web-addr).
    env: { ...process.env, QNET_WEB_BASE_URL: WEB, QNET_PUBLIC_API_URL: API },
  });
  console.log(`qnet digest --now ${at.toISOString()}: ${JSON.stringify(JSON.parse(out))}`);
}

async function outbox(): Promise<Mail[]> {
  const listing = await (await fetch(`${API}/_local/outbox`)).text();
  const files = [...listing.matchAll(/<a href="\/_local\/outbox\/([^"]+)">([^<]*)<\/a>/g)];
  const mails: Mail[] = [];
  for (const [, file, subject] of files) {
    const r = await fetch(`${API}/_local/outbox/${file}`);
    expect(r.status, `outbox message ${file}`).toBe(200);
    const raw = await r.text();
    if (process.env.QNET_DUMP_MAIL) (await import('node:fs')).writeFileSync(path.join(process.env.QNET_DUMP_MAIL, file!), raw);
    mails.push({ file: file!, subject: subject!, links: linksIn(textParts(raw)) });
  }
  return mails;
}

test('every link in every email the journeys sent opens a real page', async ({ page }, info) => {
  const now = new Date();
  const nextMonday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + ((8 - now.getUTCDay()) % 7 || 7), 7));
  const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1, 7));
  sendDigests(nextMonday);
  sendDigests(nextMonth);
  const mails = await outbox();
  expect(mails.length, 'the journeys put emails in the outbox').toBeGreaterThan(0);
  const web = new Map<string, string>(); // url -> subject of an email it came from
  const api = new Map<string, string>();
  for (const m of mails) {
    for (const link of m.links) {
      const u = new URL(link);
      if (u.origin === new URL(WEB).origin) web.set(link, m.subject);
      else if (u.origin === new URL(API).origin) api.set(link, m.subject);
    }
  }
  console.log(`${mails.length} emails, ${web.size} distinct web links, ${api.size} distinct API links`);
  expect(web.size + api.size, 'the emails link to Qnet').toBeGreaterThan(0);

  // The pages of the web app, opened as a person who clicks the link would.
  const seen = new Set<string>();
  for (const [link, subject] of web) {
    await page.goto(link);
    const h1 = page.getByRole('heading', { level: 1 });
    await expect(h1, `${link} (from "${subject}")`).toHaveCount(1);
    await expect(h1, `${link} (from "${subject}") opens a real page`).not.toHaveText('Page not found');
    await expect(h1).not.toHaveText('Sorry, there is a problem');
    // One screenshot (and accessibility check) per kind of page.
    const kind = new URL(link).pathname.replace(/[0-9a-f]{8}-[0-9a-f-]{27,}|[0-9A-HJKMNP-TV-Z]{26}/gi, 'id');
    if (!seen.has(kind)) {
      seen.add(kind);
      await checkPage(page, info, `email${kind.replace(/\//g, '-')}`);
    }
  }

  // The API's own pages behind tokened links: HTML, found, never a 5xx.
  for (const [link, subject] of api) {
    const r = await fetch(link, { headers: { accept: 'text/html' }, redirect: 'manual' });
    const body = await r.text();
    const where = `${link} (from "${subject}") answered ${r.status} ${r.headers.get('content-type')}`;
    expect(r.status, where).toBeLessThan(500);
    expect(body, where).not.toContain('no-such-route');
    if (r.status < 300 || r.status >= 400) expect(r.headers.get('content-type') ?? '', where).toMatch(/^text\/html/);
  }
});
