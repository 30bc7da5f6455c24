import { defineConfig } from '@playwright/test';

// The journeys run against `qnet serve` on a temporary data directory: the API
// on API_PORT, the built app (web/dist) and /config.json on WEB_PORT.
const API_PORT = Number(process.env.QNET_API_PORT ?? 18580);
const WEB_PORT = Number(process.env.QNET_WEB_PORT ?? 18581);
export const WEB = `http://127.0.0.1:${WEB_PORT}`;
process.env.QNET_API_URL = `http://127.0.0.1:${API_PORT}`;
process.env.QNET_WEB_URL = WEB;

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
    { name: 'phone', use: { viewport: { width: 390, height: 844 }, isMobile: false, hasTouch: false } },
    { name: 'desktop', use: { viewport: { width: 1280, height: 900 } } },
  ],
  webServer: {
    command: 'node tests/serve.mjs',
    url: `${WEB}/config.json`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { QNET_API_PORT: String(API_PORT), QNET_WEB_PORT: String(WEB_PORT) },
  },
});
