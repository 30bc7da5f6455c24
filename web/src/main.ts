import './styles.scss';
import { ApiError } from './api/client';
import { currentSession, hasRole, initAuth, onAuthChange, signInCognito } from './auth';
import { config, loadConfig } from './config';
import { clear, h } from './dom';
import { match, notFound, routes, type PageContext } from './router';
import { mountShell, type Shell } from './shell';
import { clearErrors, showProblem } from './ui/errors';

let shell: Shell;
let generation = 0;

function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  void render(true);
}

async function render(moveFocus: boolean): Promise<void> {
  const gen = ++generation;
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  shell.refreshHeader();
  const content = shell.content;
  const ctx: PageContext = {
    params: {},
    query,
    path,
    main: content,
    alerts: shell.alerts,
    navigate,
    reload: () => void render(true),
  };
  const found = match(path);
  const fresh = () => gen === generation;
  // Only the page being shown has its class on <body>.
  for (const r of routes) if (r.bodyClass && r !== found?.route) document.body.classList.remove(r.bodyClass);
  if (found?.route.bodyClass) document.body.classList.add(found.route.bodyClass);
  try {
    let load = found?.route.load ?? notFound;
    if (found) {
      ctx.params = found.params;
      if (found.route.auth && !currentSession()) {
        const back = path + location.search;
        if (config().signIn === 'cognito') {
          await signInCognito(back);
          return;
        }
        history.replaceState(null, '', `/sign-in?return=${encodeURIComponent(back)}`);
        return render(moveFocus);
      }
      if (found.route.role && !hasRole(found.route.role)) load = () => import('./pages/forbidden');
    }
    const mod = await load();
    if (!fresh()) return;
    clear(content);
    clearErrors(ctx);
    await mod.default(ctx);
  } catch (err) {
    if (!fresh()) return;
    if (err instanceof ApiError && err.status === 404) {
      const mod = await notFound();
      clear(content);
      await mod.default(ctx);
    } else {
      if (!content.querySelector('h1')) {
        clear(content);
        document.title = 'Sorry, there is a problem - Qnet';
        content.appendChild(h('h1', { tabindex: '-1' }, 'Sorry, there is a problem'));
      }
      showProblem(ctx, err);
      return;
    }
  }
  if (fresh() && moveFocus && !shell.alerts.firstChild) {
    const h1 = content.querySelector('h1');
    if (h1) {
      h1.setAttribute('tabindex', '-1');
      h1.focus();
    }
    if (!location.hash) window.scrollTo(0, 0);
  }
}

function sameOriginTarget(href: string): URL | null {
  try {
    const u = new URL(href, location.href);
    return u.origin === location.origin ? u : null;
  } catch {
    return null;
  }
}

function interceptLinks(): void {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.hasAttribute('download') || (a.target && a.target !== '_self') || a.hasAttribute('data-external')) return;
    const href = a.getAttribute('href');
    if (!href || href.startsWith('#')) return;
    const u = sameOriginTarget(a.href);
    if (!u) return;
    e.preventDefault();
    navigate(u.pathname + u.search + u.hash);
  });
  document.addEventListener('submit', (e) => {
    const form = e.target as HTMLFormElement;
    if (e.defaultPrevented || (form.method || 'get').toLowerCase() !== 'get') return;
    const u = sameOriginTarget(form.getAttribute('action') || location.pathname);
    if (!u) return;
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (typeof v === 'string' && v.trim() !== '') q.append(k, v.trim());
    const qs = q.toString();
    navigate(u.pathname + (qs ? `?${qs}` : ''));
  });
  addEventListener('popstate', () => void render(true));
}

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  try {
    await loadConfig();
  } catch (err) {
    console.error(err);
    clear(root);
    root.appendChild(
      h(
        'main',
        { class: 'nhsuk-width-container nhsuk-main-wrapper', id: 'maincontent' },
        h('h1', null, 'Sorry, Qnet is not available'),
        h('p', null, 'The site could not load its settings. Try again in a few minutes.'),
      ),
    );
    return;
  }
  await initAuth();
  shell = mountShell(root);
  onAuthChange(() => shell.refreshHeader());
  interceptLinks();
  try {
    await render(false);
  } finally {
    shell.showFooter();
  }
}

void start();
