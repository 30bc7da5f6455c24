// A small History API router: one module per page, loaded with import() so
// each route is its own chunk.

import type { Role } from './auth';

export interface PageContext {
  params: Record<string, string>;
  query: URLSearchParams;
  path: string;
  /** The page's column: the error area comes first, then the page's content. */
  main: HTMLElement;
  /** Where error summaries go (top of the page). */
  alerts: HTMLElement;
  navigate(to: string, opts?: { replace?: boolean }): void;
  reload(): void;
}

export type Page = (ctx: PageContext) => Promise<void> | void;
type Loader = () => Promise<{ default: Page }>;

export interface Route {
  pattern: string;
  load: Loader;
  /** Sign-in needed (a signed-out visitor is sent to sign in and back). */
  auth?: boolean;
  role?: Role;
  /** A class on <body> while this page is shown (removed on leaving it), for
   * styles that need the whole document, such as a print layout. */
  bodyClass?: string;
}

export const routes: Route[] = [
  { pattern: '/', load: () => import('./pages/home') },
  { pattern: '/sign-in', load: () => import('./pages/sign-in') },
  { pattern: '/auth/callback', load: () => import('./pages/auth-callback') },
  { pattern: '/case-studies', load: () => import('./pages/case-studies') },
  { pattern: '/case-studies/new', load: () => import('./pages/share-case-study'), auth: true },
  { pattern: '/case-studies/:id/edit', load: () => import('./pages/share-case-study'), auth: true },
  { pattern: '/case-studies/:id', load: () => import('./pages/case-study') },
  { pattern: '/search', load: () => import('./pages/search') },
  { pattern: '/my/submissions', load: () => import('./pages/my-submissions'), auth: true },
  { pattern: '/moderation', load: () => import('./pages/moderation'), auth: true, role: 'moderator' },
  { pattern: '/moderation/reports', load: () => import('./pages/reports'), auth: true, role: 'moderator' },
  { pattern: '/moderation/:kind/:id', load: () => import('./pages/review'), auth: true, role: 'moderator' },
  { pattern: '/resources', load: () => import('./pages/resources') },
  { pattern: '/resources/new', load: () => import('./pages/share-resource'), auth: true },
  { pattern: '/resources/:id', load: () => import('./pages/resource') },
  { pattern: '/questions/:id', load: () => import('./pages/question') },
  { pattern: '/settings', load: () => import('./pages/settings'), auth: true },
  { pattern: '/settings/:section', load: () => import('./pages/settings'), auth: true },
  { pattern: '/admin', load: () => import('./pages/admin'), auth: true, role: 'admin' },
  { pattern: '/admin/organisations/new', load: () => import('./pages/admin-organisation'), auth: true, role: 'admin' },
  { pattern: '/admin/organisations/:id', load: () => import('./pages/admin-organisation'), auth: true, role: 'admin' },
  { pattern: '/admin/roles', load: () => import('./pages/admin-roles'), auth: true, role: 'admin' },
  { pattern: '/events', load: () => import('./pages/events') },
  { pattern: '/events/new', load: () => import('./pages/event-form'), auth: true },
  { pattern: '/events/:id/edit', load: () => import('./pages/event-form'), auth: true },
  { pattern: '/events/:id', load: () => import('./pages/event') },
  { pattern: '/my/bookings', load: () => import('./pages/my-bookings'), auth: true },
  { pattern: '/my/portfolio', load: () => import('./pages/portfolio'), auth: true, bodyClass: 'qnet-portfolio-page' },
  { pattern: '/members', load: () => import('./pages/members'), auth: true },
  { pattern: '/organisations', load: () => import('./pages/organisations') },
  { pattern: '/insights', load: () => import('./pages/insights'), auth: true },
  { pattern: '/projects', load: () => import('./pages/projects'), auth: true },
  { pattern: '/projects/new', load: () => import('./pages/project-new'), auth: true },
  { pattern: '/projects/:id', load: () => import('./pages/project'), auth: true },
  { pattern: '/projects/:id/measures/:mid', load: () => import('./pages/measure'), auth: true },
  { pattern: '/mentoring', load: () => import('./pages/mentoring') },
  { pattern: '/mentoring/offer', load: () => import('./pages/mentor-offer'), auth: true },
  { pattern: '/mentoring/ask', load: () => import('./pages/mentoring-ask'), auth: true },
  { pattern: '/mentoring/requests/:id', load: () => import('./pages/mentoring-request'), auth: true },
  { pattern: '/mentoring/coffee', load: () => import('./pages/coffee'), auth: true },
];

export function match(path: string): { route: Route; params: Record<string, string> } | null {
  const segs = path.replace(/\/+$/, '').split('/').filter(Boolean);
  for (const route of routes) {
    const ps = route.pattern.split('/').filter(Boolean);
    if (ps.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i]!;
      const s = segs[i]!;
      if (p.startsWith(':')) {
        try {
          params[p.slice(1)] = decodeURIComponent(s);
        } catch {
          ok = false;
          break;
        }
      } else if (p !== s) {
        ok = false;
        break;
      }
    }
    if (ok) return { route, params };
  }
  return null;
}

export const notFound: Loader = () => import('./pages/not-found');
