// Calls to the API: bearer token, problem+json errors, If-Match on edits and an
// Idempotency-Key on creating POSTs.

import { token } from '../auth';
import { config } from '../config';
import type { Problem } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
    readonly retryAfter: string | null,
  ) {
    super(problem?.detail || problem?.title || `The service answered ${status}`);
  }
}

export interface CallOptions {
  query?: Record<string, string | number | undefined | null>;
  body?: unknown;
  /** The version being changed (sent as If-Match). */
  ifMatch?: number | string;
  /** A creating POST: sends a fresh Idempotency-Key. */
  create?: boolean;
  accept?: string;
  /** A body sent as it is (CSV), with its content type. */
  rawBody?: string;
  contentType?: string;
}

export function apiUrl(path: string, query?: CallOptions['query']): string {
  const u = new URL(config().apiBaseUrl + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
  return u.toString();
}

export async function call(method: string, path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: opts.accept ?? 'application/json, application/problem+json' };
  const t = token();
  if (t) headers['authorization'] = `Bearer ${t}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.rawBody !== undefined) headers['content-type'] = opts.contentType ?? 'text/plain';
  if (opts.ifMatch !== undefined) headers['if-match'] = `"${String(opts.ifMatch).replace(/"/g, '')}"`;
  if (opts.create) headers['idempotency-key'] = crypto.randomUUID();
  let r: Response;
  try {
    r = await fetch(apiUrl(path, opts.query), {
      method,
      headers,
      body: opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
      mode: 'cors',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, { type: 'network', title: 'The service could not be reached', status: 0, detail: 'Check your connection and try again.', errors: [] }, null);
  }
  if (!r.ok) {
    let problem: Problem | null = null;
    try {
      const body = (await r.json()) as Partial<Problem>;
      problem = { type: body.type ?? '', title: body.title ?? '', status: body.status ?? r.status, detail: body.detail ?? '', errors: body.errors ?? [] };
    } catch {
      problem = null;
    }
    throw new ApiError(r.status, problem, r.headers.get('retry-after'));
  }
  return r;
}

export async function getJson<T>(path: string, query?: CallOptions['query']): Promise<T> {
  return (await (await call('GET', path, { query })).json()) as T;
}

export async function send<T>(method: 'POST' | 'PATCH' | 'PUT', path: string, opts: CallOptions = {}): Promise<T> {
  const r = await call(method, path, opts);
  if (r.status === 204) return undefined as T;
  return (await r.json()) as T;
}

export async function remove(path: string, query?: CallOptions['query']): Promise<void> {
  await call('DELETE', path, { query });
}

/** A binary or HTML answer as a blob (digest preview, chart SVGs). */
export async function getBlob(path: string, accept: string, query?: CallOptions['query']): Promise<Blob> {
  return await (await call('GET', path, { accept, query })).blob();
}
