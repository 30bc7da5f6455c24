// Fails (exit 1) when the committed src/api/schema.d.ts differs from what the
// API's OpenAPI document generates, so the front end cannot drift from the API.
// Usage: npm run check:api -- <file or URL>
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SCHEMA, generate, source } from './gen-api.mjs';

const src = source();
const dir = mkdtempSync(path.join(tmpdir(), 'qnet-api-'));
const fresh = path.join(dir, 'schema.d.ts');
try {
  generate(src, fresh);
  const want = readFileSync(fresh, 'utf8');
  let have = '';
  try {
    have = readFileSync(SCHEMA, 'utf8');
  } catch {
    /* missing counts as different */
  }
  if (want !== have) {
    console.error(
      `src/api/schema.d.ts is out of date with ${src}.\n` +
        `Run: npm run gen:api -- ${src}\nthen fix any type errors (npm run typecheck) and commit the result.`,
    );
    process.exit(1);
  }
  console.log(`src/api/schema.d.ts matches ${src}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
