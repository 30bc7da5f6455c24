import { defineConfig } from '@playwright/test';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The journeys run against `qnet serve` on a temporary data directory: the API
// on API_PORT, the built app (web/dist) and /config.json on WEB_PORT.
const API_PORT = Number(process.env.QNET_API_PORT ?? 18580);
const WEB_PORT = Number(process.env.QNET_WEB_PORT ?? 18581);
export const WEB = `http://127.0.0.1:${WEB_PORT}`;
process.env.QNET_API_URL = `http://127.0.0.1:${API_PORT}`;
process.env.QNET_WEB_URL = WEB;
// The data directory of that `qnet serve` (emptied when it starts, removed when
// it stops), so the email test can run the digest over what the journeys did.
const DATA = process.env.QNET_TEST_DATA ?? path.join(tmpdir(), `qnet-web-tests-${API_PORT}`);
process.env.QNET_TEST_DATA = DATA;

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  globalSetup: './tests/global-setup.ts',
  use: {
    baseURL: WEB,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  projects: [
    { name: 'phone', testIgnore: /email-links/, use: { viewport: { width: 390, height: 844 }, isMobile: false, hasTouch: false } },
    { name: 'desktop', testIgnore: /email-links/, use: { viewport: { width: 1280, height: 900 } } },
    // After both runs of the journeys: every link in the emails they sent.
    { name: 'emails', testMatch: /email-links\.spec\.ts/, dependencies: ['phone', 'desktop'], use: { viewport: { width: 1280, height: 900 } } },
  ],
  webServer: {
    command: 'node tests/serve.mjs',
    url: `${WEB}/config.json`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { QNET_API_PORT: String(API_PORT), QNET_WEB_PORT: String(WEB_PORT), QNET_TEST_DATA: DATA },
  },
});
