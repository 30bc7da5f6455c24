// Runtime settings, from /config.json on the web origin (written by `qnet serve
// --web-addr` locally, by scripts/deploy-web in AWS).

export interface CognitoConfig {
  authority: string;
  domain: string;
  clientId: string;
  redirectUri: string;
  logoutUri: string;
}

export interface Config {
  apiBaseUrl: string;
  signIn: 'local' | 'cognito';
  cognito?: CognitoConfig;
}

let loaded: Config | null = null;

export async function loadConfig(): Promise<Config> {
  const r = await fetch('/config.json', { cache: 'no-store', headers: { accept: 'application/json' } });
  if (!r.ok) throw new Error(`/config.json answered ${r.status}`);
  const c = (await r.json()) as Config;
  if (typeof c.apiBaseUrl !== 'string' || !/^https?:\/\//.test(c.apiBaseUrl)) throw new Error('/config.json has no apiBaseUrl');
  c.apiBaseUrl = c.apiBaseUrl.replace(/\/+$/, '');
  if (c.signIn !== 'cognito') c.signIn = 'local';
  loaded = c;
  return c;
}

export function config(): Config {
  if (!loaded) throw new Error('config not loaded');
  return loaded;
}
