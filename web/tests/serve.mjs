// Starts `qnet serve` for the browser tests on a fresh temporary data directory
// (the binary from $QNET_BIN, default ../target/debug/qnet), and removes the
// directory when Playwright stops it.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.resolve(web, process.env.QNET_BIN ?? '../target/debug/qnet');
if (!existsSync(bin)) {
  console.error(`qnet binary not found at ${bin}: build it (cargo build -p qnet) or set QNET_BIN`);
  process.exit(1);
}
if (!existsSync(path.join(web, 'dist/index.html'))) {
  console.error('web/dist is missing: run npm run build first');
  process.exit(1);
}
// $QNET_TEST_DATA (set by playwright.config.ts) starts empty; else a new temp dir.
let data = process.env.QNET_TEST_DATA;
if (data) {
  rmSync(data, { recursive: true, force: true });
  mkdirSync(data, { recursive: true });
} else {
  data = mkdtempSync(path.join(tmpdir(), 'qnet-web-tests-'));
}
const api = `127.0.0.1:${process.env.QNET_API_PORT ?? 18580}`;
const site = `127.0.0.1:${process.env.QNET_WEB_PORT ?? 18581}`;
const child = spawn(bin, ['serve', '--addr', api, '--web-addr', site, '--data-dir', data], { cwd: path.resolve(web, '..'), stdio: 'inherit' });
const stop = () => {
  child.kill('SIGTERM');
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
child.on('exit', (code) => {
  rmSync(data, { recursive: true, force: true });
  process.exit(code ?? 0);
});
