// Generates src/api/schema.d.ts from the API's OpenAPI document.
// Usage: npm run gen:api -- <file or URL>   (default: $QNET_OPENAPI or http://127.0.0.1:8080/openapi.json)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA = path.join(web, 'src/api/schema.d.ts');

export function source(argv = process.argv.slice(2)) {
  return argv[0] ?? process.env.QNET_OPENAPI ?? 'http://127.0.0.1:8080/openapi.json';
}

export function generate(src, out) {
  const bin = path.join(web, 'node_modules/.bin/openapi-typescript');
  const r = spawnSync(bin, [src, '--output', out], { cwd: web, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.error(`openapi-typescript could not read ${src}`);
    process.exit(r.status ?? 2);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  generate(source(), SCHEMA);
}
