// "My QI portfolio" (/my/portfolio): the signed-in member's own record of QI
// activity for appraisal and revalidation, section by section with dates; a
// period filter, a CSV download and a print layout (styles.scss, @media print:
// no navigation or buttons, link addresses written out, a page per section;
// it applies while <body> has the route's class, qnet-portfolio-page).

import { apiUrl, getBlob, getJson } from '../api/client';
import type { Portfolio, PortfolioSection } from '../api/types';
import { date, h, summaryList } from '../dom';
import type { PageContext } from '../router';
import { filterForm, heading, insetText } from '../ui/common';
import { showProblem } from '../ui/errors';
import { button, buttonGroup, textInput } from '../ui/forms';

function sectionTable(s: PortfolioSection): HTMLElement {
  if (!s.items.length) return h('p', null, 'Nothing recorded in this period.');
  return h(
    'div',
    { class: 'qnet-table-scroll' },
    h(
      'table',
      { class: 'nhsuk-table' },
      h('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, s.title),
      h(
        'thead',
        { class: 'nhsuk-table__head' },
        h('tr', null, ['Date', 'Activity', 'Role or detail'].map((t) => h('th', { scope: 'col', class: 'nhsuk-table__header' }, t))),
      ),
      h(
        'tbody',
        { class: 'nhsuk-table__body' },
        s.items.map((i) =>
          h(
            'tr',
            { class: 'nhsuk-table__row' },
            h('td', { class: 'nhsuk-table__cell qnet-nowrap' }, h('time', { datetime: i.date }, date(i.date))),
            h(
              'td',
              { class: 'nhsuk-table__cell qnet-break' },
              // Printed with its full address (data-url), so the paper copy still points to it.
              h('a', { href: i.link, class: 'nhsuk-link', 'data-url': new URL(i.link, location.origin).href }, i.title),
            ),
            h('td', { class: 'nhsuk-table__cell' }, i.detail),
          ),
        ),
      ),
    ),
  );
}

export default async function portfolio(ctx: PageContext): Promise<void> {
  const from = ctx.query.get('from') ?? '';
  const to = ctx.query.get('to') ?? '';
  const query = { from, to };
  heading(ctx, 'My QI portfolio');
  const filters = filterForm(
    ctx,
    [
      h(
        'fieldset',
        { class: 'nhsuk-fieldset' },
        h('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--s' }, 'Period'),
        textInput({ field: 'from', label: 'From', value: from, type: 'date' }),
        textInput({ field: 'to', label: 'To', value: to, type: 'date' }),
      ),
    ],
    'Show this period',
  );
  filters.classList.add('qnet-no-print');
  let p: Portfolio;
  try {
    p = await getJson<Portfolio>('/me/portfolio', query);
  } catch (err) {
    ctx.main.append(filters);
    showProblem(ctx, err, { from: 'From', to: 'To' });
    return;
  }
  ctx.main.append(
    h('p', { class: 'nhsuk-lede-text qnet-no-print' }, 'Your quality-improvement activity in Qnet, with dates, to use as evidence for appraisal and revalidation.'),
    h('section', { class: 'qnet-portfolio__heading', 'aria-label': 'Whose portfolio' }, summaryList([
      ['Name', p.member_name],
      ['Organisation', p.organisation_name ?? 'None recorded'],
      ['Period', p.from || p.to ? [p.from ? date(p.from) : 'the start', p.to ? date(p.to) : 'today'].join(' to ') : 'All time'],
      ['Produced', date(p.generated_on)],
    ])),
    filters,
  );
  const download = h(
    'a',
    {
      href: apiUrl('/me/portfolio.csv', query),
      class: 'nhsuk-button nhsuk-button--secondary',
      draggable: 'false',
      onclick: async (e: Event) => {
        e.preventDefault();
        try {
          const blob = await getBlob('/me/portfolio.csv', 'text/csv', query);
          const a = h('a', { href: URL.createObjectURL(blob), download: 'qi-portfolio.csv', hidden: true });
          document.body.append(a);
          a.click();
          setTimeout(() => {
            URL.revokeObjectURL(a.href);
            a.remove();
          }, 1000);
        } catch (err) {
          showProblem(ctx, err);
        }
      },
    },
    'Download CSV',
  );
  const actions = buttonGroup(download, button('Print', { type: 'button', onclick: () => print() }));
  actions.classList.add('qnet-no-print');
  ctx.main.append(actions);
  const root = h('div', { class: 'qnet-portfolio' });
  for (const s of p.sections) {
    root.append(
      h(
        'section',
        { class: 'qnet-portfolio__section', 'aria-labelledby': `portfolio-${s.id}` },
        h('h2', { id: `portfolio-${s.id}` }, s.title),
        sectionTable(s),
        s.truncated ? insetText(`Only the latest ${p.section_cap} are shown here.`) : null,
      ),
    );
  }
  ctx.main.append(root);
}
