// The web front end's budgets, measured in Chromium against a running
// `qnet serve` (scripts/bench-web starts one on a fresh data directory):
//   - the home page's JavaScript, gzipped: every script response the page
//     loads (entry and route chunks), as Chromium's network events report
//     them, each gzipped at level 9 and summed; budget 100 KB;
//   - Lighthouse (the npm package, on the same Chromium through chrome-launcher's
//     CHROME_PATH, mobile defaults) on the home page and a published case study's
//     page: performance at least 90, accessibility 100.
// It seeds what it needs through the API: an organisation, a case study, and its
// publication by a moderator. Exits 1 when a budget is missed.
// Usage: node scripts/bench-web.mjs   (QNET_API_URL, QNET_WEB_URL, CHROMIUM)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from '@playwright/test';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const API = process.env.QNET_API_URL ?? 'http://127.0.0.1:8080';
const WEB = process.env.QNET_WEB_URL ?? 'http://127.0.0.1:8081';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const DOMAIN = 'bench.nhs.uk';
const BUDGET = { jsKb: 100, performance: 90, accessibility: 100 };

async function api(method, p, { token, body, ifMatch, create } = {}) {
  const headers = { accept: 'application/json', origin: WEB };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (ifMatch !== undefined) headers['if-match'] = `"${ifMatch}"`;
  if (create) headers['idempotency-key'] = crypto.randomUUID();
  const r = await fetch(API + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p} answered ${r.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function signIn(email, role) {
  return (await api('POST', '/_local/sign-in', { body: { email, role } })).token;
}

/** One organisation and one published case study; answers the case study's id. */
async function seed() {
  const admin = await signIn(`admin@${DOMAIN}`, 'admin');
  const orgs = await api('GET', '/organisations');
  if (!orgs.items.some((o) => o.email_domains.includes(DOMAIN))) {
    await api('POST', '/organisations', {
      token: admin,
      create: true,
      body: { name: 'Bench Teaching Hospitals', type: 'nhs', ods_code: 'RBN', email_domains: [DOMAIN] },
    });
  }
  const member = await signIn(`jo@${DOMAIN}`, 'member');
  const topics = await api('GET', '/topics');
  const topicList = Array.isArray(topics) ? topics : (topics.items ?? []);
  const sections = {
    aim: 'Halve inpatient falls on ward 5 by March.',
    background: 'Falls were the most reported incident on the ward.',
    what_we_did: 'Six PDSA cycles of hourly rounding, starting with one bay and the night team.',
    measures: 'Falls per 1,000 bed days, weekly, on a run chart.',
    results: 'Falls fell from 12 to 5 a month and stayed there for six months.',
    lessons_learned: 'Start small, test at night first, and share the run chart at every huddle.',
    contact: 'Ward 5 practice development team',
  };
  const headings = { aim: 'Aim', background: 'Background', what_we_did: 'What we did', measures: 'Measures', results: 'Results', lessons_learned: 'Lessons learned', contact: 'Contact' };
  const created = await api('POST', '/case-studies', {
    token: member,
    create: true,
    body: {
      title: 'Fewer falls on ward 5 with hourly rounding',
      summary: 'Hourly rounding halved falls on an older people’s ward.',
      body: Object.entries(sections).map(([k, v]) => `${headings[k]}\n${v}`).join('\n\n'),
      sections,
      topics: topicList.slice(0, 2).map((t) => t.id ?? t.slug ?? t),
    },
  });
  const moderator = await signIn(`sam@${DOMAIN}`, 'moderator');
  const rec = await api('GET', `/case-studies/${created.id}`, { token: moderator });
  await api('POST', `/case-studies/${created.id}/publish`, { token: moderator, ifMatch: rec.version });
  return created.id;
}

/** The home page's JavaScript, as Chromium fetched it. */
async function homeJs() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage();
    const scripts = [];
    page.on('response', (r) => {
      if (r.request().resourceType() === 'script') scripts.push(r);
    });
    await page.goto(`${WEB}/`, { waitUntil: 'networkidle' });
    await page.getByRole('heading', { level: 1 }).waitFor();
    const files = [];
    for (const r of scripts) {
      const body = await r.body();
      files.push({ url: new URL(r.url()).pathname, raw: body.length, gz: gzipSync(body, { level: 9 }).length });
    }
    return files;
  } finally {
    await browser.close();
  }
}

/** Lighthouse's performance and accessibility scores (0-100) for one URL. */
function lighthouse(url, out) {
  const bin = path.join(web, 'node_modules/.bin/lighthouse');
  const report = path.join(out, `lighthouse-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(
    bin,
    [
      url,
      '--only-categories=performance,accessibility',
      '--output=json',
      `--output-path=${report}`,
      '--chrome-flags=--headless=new --no-sandbox --disable-dev-shm-usage',
      '--quiet',
    ],
    { cwd: web, env: { ...process.env, CHROME_PATH: CHROMIUM }, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (r.status !== 0) throw new Error(`lighthouse ${url} exited ${r.status}`);
  const lhr = JSON.parse(readFileSync(report, 'utf8'));
  const score = (c) => Math.round((lhr.categories[c]?.score ?? 0) * 100);
  const failing = Object.values(lhr.audits)
    .filter((a) => a.score !== null && a.score < 1 && lhr.categories.accessibility.auditRefs.some((ref) => ref.id === a.id && ref.weight > 0))
    .map((a) => a.id);
  return { performance: score('performance'), accessibility: score('accessibility'), failing, metrics: lhr.audits.metrics?.details?.items?.[0] };
}

const pad = (s, n) => String(s).padEnd(n);
let missed = 0;
function line(what, value, budget, ok) {
  if (!ok) missed++;
  console.log(`${pad(what, 44)} ${pad(value, 10)} budget ${pad(budget, 8)} ${ok ? 'ok' : 'MISSED'}`);
}

console.log(`seeding ${API}: an organisation and one published case study`);
const id = await seed();
const caseStudy = `${WEB}/case-studies/${id}`;

console.log(`measuring the home page's JavaScript in Chromium (${CHROMIUM})`);
const files = await homeJs();
for (const f of files) console.log(`  ${pad(f.url, 48)} ${pad(`${(f.raw / 1024).toFixed(1)} KB`, 10)} ${(f.gz / 1024).toFixed(1)} KB gzipped`);
const totalKb = files.reduce((s, f) => s + f.gz, 0) / 1024;

const out = mkdtempSync(path.join(tmpdir(), 'qnet-bench-web-'));
const scores = {};
try {
  for (const [name, url] of [
    ['home', `${WEB}/`],
    ['case study', caseStudy],
  ]) {
    console.log(`lighthouse ${url}`);
    scores[name] = lighthouse(url, out);
    if (scores[name].failing.length) console.log(`  accessibility audits not passed: ${scores[name].failing.join(', ')}`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

console.log('\nbench-web results');
line(`home page JavaScript, gzipped (${files.length} files)`, `${totalKb.toFixed(1)} KB`, `<= ${BUDGET.jsKb} KB`, totalKb <= BUDGET.jsKb && files.length > 0);
for (const [name, s] of Object.entries(scores)) {
  line(`Lighthouse performance, ${name}`, s.performance, `>= ${BUDGET.performance}`, s.performance >= BUDGET.performance);
  line(`Lighthouse accessibility, ${name}`, s.accessibility, `= ${BUDGET.accessibility}`, s.accessibility >= BUDGET.accessibility);
}
if (missed) {
  console.log(`${missed} budget(s) missed`);
  process.exit(1);
}
console.log('all budgets met');
