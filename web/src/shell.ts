// The page frame: skip link, NHS header with navigation and search, main
// column, footer.

import { currentSession, hasRole, signOut } from './auth';
import { h, clear } from './dom';

const LOGO_PATH =
  'M200 0v80H0V0h200Zm-27.5 5.5c-14.5 0-29 5-29 22 0 10.2 7.7 13.5 14.7 16.3l.7.3c5.4 2 10.1 3.9 10.1 8.4 0 6.5-8.5 7.5-14 7.5s-12.5-1.5-16-3.5L135 70c5.5 2 13.5 3.5 20 3.5 15.5 0 32-4.5 32-22.5 0-19.5-25.5-16.5-25.5-25.5 0-5.5 5.5-6.5 12.5-6.5a35 35 0 0 1 14.5 3l4-13.5c-4.5-2-12-3-20-3Zm-131 2h-22l-14 65H22l9-45h.5l13.5 45h21.5l14-65H64l-9 45h-.5l-13-45Zm63 0h-18l-13 65h17l6-28H117l-5.5 28H129l13.5-65H125L119.5 32h-20l5-24.5Z';
const SVG = 'http://www.w3.org/2000/svg';

function logo(): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  for (const [k, v] of Object.entries({
    class: 'nhsuk-header__logo',
    viewBox: '0 0 200 80',
    height: '40',
    width: '100',
    focusable: 'false',
    'aria-hidden': 'true',
  }))
    svg.setAttribute(k, v);
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('fill', 'currentcolor');
  path.setAttribute('d', LOGO_PATH);
  svg.appendChild(path);
  return svg;
}

function searchIcon(): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  for (const [k, v] of Object.entries({ class: 'nhsuk-icon nhsuk-icon--search', viewBox: '0 0 24 24', width: '16', height: '16', focusable: 'false', 'aria-hidden': 'true' })) svg.setAttribute(k, v);
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', 'm20.7 18.9-4.1-4.1a7 7 0 1 0-1.4 1.4l4 4.1a1 1 0 0 0 1.5 0c.4-.4.4-1 0-1.4ZM6 10.6a5 5 0 1 1 10 0 5 5 0 0 1-10 0Z');
  svg.appendChild(path);
  return svg;
}

export interface Shell {
  main: HTMLElement;
  alerts: HTMLElement;
  content: HTMLElement;
  refreshHeader(): void;
  /** Adds the footer (once): after the first page has rendered. */
  showFooter(): void;
}

function navLinks(): [string, string][] {
  const links: [string, string][] = [
    ['Case studies', '/case-studies'],
    ['Resources', '/resources'],
    ['Events', '/events'],
    ['Mentoring', '/mentoring'],
    ['Projects', '/projects'],
  ];
  if (currentSession()) links.push(['Members', '/members'], ['Insights', '/insights']);
  if (hasRole('moderator')) links.push(['Moderation', '/moderation']);
  if (hasRole('admin')) links.push(['Admin', '/admin']);
  return links;
}

function header(): HTMLElement {
  const s = currentSession();
  const account = h(
    'nav',
    { class: 'nhsuk-header__account', 'aria-label': 'Account' },
    h(
      'ul',
      { class: 'nhsuk-header__account-list' },
      s
        ? [
            h('li', { class: 'nhsuk-header__account-item' }, s.email),
            h('li', { class: 'nhsuk-header__account-item' }, h('a', { class: 'nhsuk-header__account-link', href: '/my/submissions' }, 'My submissions')),
            h('li', { class: 'nhsuk-header__account-item' }, h('a', { class: 'nhsuk-header__account-link', href: '/my/bookings' }, 'My bookings')),
            h('li', { class: 'nhsuk-header__account-item' }, h('a', { class: 'nhsuk-header__account-link', href: '/my/portfolio' }, 'My QI portfolio')),
            h('li', { class: 'nhsuk-header__account-item' }, h('a', { class: 'nhsuk-header__account-link', href: '/settings' }, 'Settings')),
            h(
              'li',
              { class: 'nhsuk-header__account-item' },
              h(
                'button',
                {
                  class: 'nhsuk-header__account-button',
                  type: 'button',
                  onclick: () => {
                    void signOut().then(() => {
                      history.pushState(null, '', '/');
                      dispatchEvent(new PopStateEvent('popstate'));
                    });
                  },
                },
                'Sign out',
              ),
            ),
          ]
        : h(
            'li',
            { class: 'nhsuk-header__account-item' },
            h('a', { class: 'nhsuk-header__account-link', href: `/sign-in?return=${encodeURIComponent(location.pathname + location.search)}` }, 'Sign in'),
          ),
    ),
  );
  const here = location.pathname;
  return h(
    'header',
    { class: 'nhsuk-header', role: 'banner' },
    h(
      'div',
      { class: 'nhsuk-header__container nhsuk-width-container' },
      h(
        'div',
        { class: 'nhsuk-header__service' },
        h('a', { class: 'nhsuk-header__service-logo', href: '/', 'aria-label': 'Qnet homepage' }, logo(), h('span', { class: 'nhsuk-header__service-name' }, 'Qnet')),
      ),
      h(
        'search',
        { class: 'nhsuk-header__search' },
        h(
          'form',
          { class: 'nhsuk-header__search-form', id: 'search', action: '/search', method: 'get', role: 'search', 'aria-label': 'Site search' },
          h(
            'div',
            { class: 'nhsuk-form-group' },
            h('label', { class: 'nhsuk-label nhsuk-u-visually-hidden', for: 'search-field' }, 'Search'),
            h(
              'div',
              { class: 'nhsuk-input-wrapper' },
              h('input', { class: 'nhsuk-input', id: 'search-field', name: 'q', type: 'search', autocomplete: 'off', placeholder: 'Search' }),
              h('button', { class: 'nhsuk-button nhsuk-button--icon nhsuk-button--small', type: 'submit' }, searchIcon(), h('span', { class: 'nhsuk-u-visually-hidden' }, 'Search')),
            ),
          ),
        ),
      ),
      account,
    ),
    h(
      'nav',
      { class: 'nhsuk-header__navigation', 'aria-label': 'Menu' },
      h(
        'div',
        { class: 'nhsuk-header__navigation-container nhsuk-width-container' },
        h(
          'ul',
          { class: 'nhsuk-header__navigation-list' },
          navLinks().map(([text, href]) =>
            h(
              'li',
              { class: `nhsuk-header__navigation-item${here.startsWith(href) ? ' nhsuk-header__navigation-item--current' : ''}` },
              h('a', { class: 'nhsuk-header__navigation-link', href, 'aria-current': here === href ? 'page' : null }, text),
            ),
          ),
        ),
      ),
    ),
  );
}

function footer(): HTMLElement {
  return h(
    'footer',
    { class: 'nhsuk-footer', role: 'contentinfo' },
    h(
      'div',
      { class: 'nhsuk-footer__container nhsuk-width-container' },
      h('h2', { class: 'nhsuk-u-visually-hidden' }, 'Support links'),
      h(
        'div',
        { class: 'nhsuk-footer__meta' },
        h(
          'ul',
          { class: 'nhsuk-footer__list' },
          h('li', { class: 'nhsuk-footer__list-item' }, h('a', { class: 'nhsuk-footer__list-item-link', href: '/case-studies/new' }, 'Share a case study')),
          h('li', { class: 'nhsuk-footer__list-item' }, h('a', { class: 'nhsuk-footer__list-item-link', href: '/settings' }, 'Your settings')),
        ),
        h('p', { class: 'nhsuk-body-s' }, 'Qnet: a quality-improvement network for NHS, council and voluntary-sector staff.'),
      ),
    ),
  );
}

export function mountShell(root: HTMLElement): Shell {
  clear(root);
  const skip = h('a', { class: 'nhsuk-skip-link', href: '#maincontent' }, 'Skip to main content');
  skip.addEventListener('click', (e) => {
    e.preventDefault();
    main.focus();
  });
  let head = header();
  const alerts = h('div', { id: 'alerts' });
  const content = h('div', { id: 'content' });
  const main = h(
    'main',
    { class: 'nhsuk-main-wrapper', id: 'maincontent', role: 'main', tabindex: '-1' },
    h('div', { class: 'nhsuk-grid-row' }, h('div', { class: 'nhsuk-grid-column-full' }, alerts, content)),
  );
  // The footer joins once the first page has rendered: appended with an empty
  // page, it would be pushed down the screen when the content arrives (a layout
  // shift Lighthouse counts against the page).
  root.append(skip, head, h('div', { class: 'nhsuk-width-container' }, main));
  let foot: HTMLElement | null = null;
  return {
    main,
    alerts,
    content,
    showFooter() {
      if (!foot) root.append((foot = footer()));
    },
    refreshHeader() {
      const next = header();
      head.replaceWith(next);
      head = next;
    },
  };
}
