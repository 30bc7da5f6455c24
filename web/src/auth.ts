// Who is signed in. Tokens stay in memory; locally (development only) the
// token is also kept in sessionStorage so a reload keeps you signed in. With
// Cognito, oidc-client-ts runs the authorization-code flow with PKCE and keeps
// the user in an in-memory store; the API wants the ID token.

import type { UserManager } from 'oidc-client-ts';
import { config } from './config';

export type Role = 'member' | 'organiser' | 'moderator' | 'admin';
export const ROLES: Role[] = ['member', 'organiser', 'moderator', 'admin'];

export interface Session {
  token: string;
  expiresAt: number; // unix seconds
  email: string;
  name: string;
  roles: Role[];
}

const STORAGE_KEY = 'qnet.local.session';
let session: Session | null = null;
let manager: UserManager | null = null;
const listeners = new Set<() => void>();

export function onAuthChange(f: () => void): void {
  listeners.add(f);
}

function changed(): void {
  for (const f of listeners) f();
}

export function currentSession(): Session | null {
  if (session && session.expiresAt * 1000 <= Date.now()) {
    setSession(null);
  }
  return session;
}

export function token(): string | null {
  return currentSession()?.token ?? null;
}

/** Whether the signed-in person may act in role r. As in the API
 *  (Claims::is_moderator), an admin may also moderate. */
export function hasRole(r: Role): boolean {
  const roles = currentSession()?.roles ?? [];
  if (r === 'moderator' && roles.includes('admin')) return true;
  return roles.includes(r);
}

function decodeClaims(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1] ?? '';
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

export function sessionFromToken(jwt: string, expiresAt?: number): Session {
  const c = decodeClaims(jwt);
  const groups = (c['groups'] ?? c['cognito:groups'] ?? []) as unknown;
  const roles = new Set<Role>(['member']);
  if (Array.isArray(groups)) for (const g of groups) if (ROLES.includes(g as Role)) roles.add(g as Role);
  return {
    token: jwt,
    expiresAt: expiresAt ?? (typeof c['exp'] === 'number' ? c['exp'] : Math.floor(Date.now() / 1000) + 3600),
    email: typeof c['email'] === 'string' ? c['email'] : '',
    name: typeof c['name'] === 'string' ? c['name'] : '',
    roles: ROLES.filter((r) => roles.has(r)),
  };
}

function setSession(s: Session | null): void {
  session = s;
  if (config().signIn === 'local') {
    try {
      if (s) sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ token: s.token, expiresAt: s.expiresAt }));
      else sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      /* storage may be unavailable; memory still works */
    }
  }
  changed();
}

/** A path on this origin to return to, or "/" for anything else. */
export function safeReturn(p: string | null | undefined): string {
  if (!p || !p.startsWith('/') || p.startsWith('//') || p.startsWith('/\\')) return '/';
  try {
    const u = new URL(p, location.origin);
    if (u.origin !== location.origin) return '/';
    if (u.pathname === '/sign-in' || u.pathname === '/auth/callback') return '/';
    return u.pathname + u.search + u.hash;
  } catch {
    return '/';
  }
}

async function userManager(): Promise<UserManager> {
  if (manager) return manager;
  const c = config().cognito;
  if (!c) throw new Error('/config.json has signIn "cognito" but no cognito settings');
  const { UserManager, WebStorageStateStore, InMemoryWebStorage } = await import('oidc-client-ts');
  manager = new UserManager({
    authority: c.authority,
    client_id: c.clientId,
    redirect_uri: c.redirectUri,
    post_logout_redirect_uri: c.logoutUri,
    response_type: 'code',
    scope: 'openid email profile',
    userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
    automaticSilentRenew: false,
  });
  return manager;
}

export async function initAuth(): Promise<void> {
  if (config().signIn === 'local') {
    try {
      const raw = sessionStorage.getItem(STORAGE_KEY);
      if (raw) {
        const { token: t, expiresAt } = JSON.parse(raw) as { token: string; expiresAt: number };
        if (expiresAt * 1000 > Date.now()) session = sessionFromToken(t, expiresAt);
        else sessionStorage.removeItem(STORAGE_KEY);
      }
    } catch {
      session = null;
    }
  }
}

export class SignInRefused extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly problem: unknown,
  ) {
    super(message);
  }
}

/** Local development sign-in: the runner's loopback-only endpoint mints a token. */
export async function signInLocal(email: string, role: Role): Promise<Session> {
  const r = await fetch(`${config().apiBaseUrl}/_local/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, application/problem+json' },
    body: JSON.stringify({ email, role }),
  });
  const body = (await r.json().catch(() => null)) as { token?: string; expires_at?: number; detail?: string } | null;
  if (!r.ok || !body?.token) {
    throw new SignInRefused(body?.detail ?? `Sign-in failed (${r.status})`, r.status, body);
  }
  const s = sessionFromToken(body.token, body.expires_at);
  setSession(s);
  return s;
}

export async function signInCognito(returnTo: string): Promise<void> {
  const m = await userManager();
  await m.signinRedirect({ state: { returnTo: safeReturn(returnTo) } });
}

/** Finishes the Cognito redirect; answers the same-origin path to go to. */
export async function completeCognitoSignIn(): Promise<string> {
  const m = await userManager();
  const user = await m.signinRedirectCallback();
  if (!user.id_token) throw new Error('Cognito sent no ID token');
  setSession(sessionFromToken(user.id_token, user.expires_at));
  const state = user.state as { returnTo?: string } | undefined;
  return safeReturn(state?.returnTo);
}

export async function signOut(): Promise<void> {
  setSession(null);
  const c = config();
  if (c.signIn === 'cognito' && c.cognito) {
    const m = await userManager();
    await m.removeUser();
    const u = new URL('/logout', c.cognito.domain);
    u.searchParams.set('client_id', c.cognito.clientId);
    u.searchParams.set('logout_uri', c.cognito.logoutUri);
    location.assign(u.toString());
  }
}
