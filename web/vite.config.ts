import { defineConfig, type Plugin } from 'vite';
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);

/** Copies the NHS.UK frontend's icons and favicon into public/, so the CSS and
 *  pages load them from our own origin (no third-party asset hosts). */
function nhsukAssets(): Plugin {
  return {
    name: 'qnet-nhsuk-assets',
    buildStart() {
      const from = path.join(here, 'node_modules/nhsuk-frontend/dist/nhsuk/assets/images');
      const to = path.join(here, 'public/assets/nhsuk/images');
      mkdirSync(to, { recursive: true });
      cpSync(from, to, { recursive: true });
    },
  };
}

/** The app's stylesheet also under a stable name, `/qnet.css`, so that the API's
 *  own pages behind links in emails (unsubscribe, offers, visit requests) wear
 *  the same NHS.UK look from the same file. */
function stableStylesheet(): Plugin {
  return {
    name: 'qnet-stable-stylesheet',
    apply: 'build',
    generateBundle(_options, bundle) {
      const css = Object.values(bundle).filter(
        (f) => f.type === 'asset' && f.fileName.startsWith('assets/index-') && f.fileName.endsWith('.css'),
      );
      if (css.length !== 1) this.error(`expected one entry stylesheet, found ${css.length}`);
      const asset = css[0] as { source: string | Uint8Array };
      this.emitFile({ type: 'asset', fileName: 'qnet.css', source: asset.source });
    },
  };
}

/** In `vite dev` only: the runtime settings that `qnet serve --web-addr` (or the
 *  deploy script) serves at /config.json. */
function devConfig(): Plugin {
  return {
    name: 'qnet-dev-config',
    configureServer(server) {
      server.middlewares.use('/config.json', (_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ apiBaseUrl: process.env.QNET_API ?? 'http://127.0.0.1:8080', signIn: 'local' }));
      });
    },
  };
}

export default defineConfig({
  plugins: [nhsukAssets(), stableStylesheet(), devConfig()],
  css: {
    preprocessorOptions: {
      scss: { quietDeps: true, silenceDeprecations: ['import'] },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: { port: 5173, strictPort: true },
});
