// Insights: QI activity across the system, per organisation type and per
// organisation (GET /insights). Each table has a bar chart of the system's
// row (an SVG image with its numbers written beside the bars and in the
// table) and a CSV download. Counts that could point at a few people arrive
// from the API as "fewer than 5" and are shown as that.
import { apiUrl, getBlob, getJson } from '../api/client';
import type { InsightsTable, InsightsView, OrganisationList } from '../api/types';
import { h } from '../dom';
import type { PageContext } from '../router';
import { heading, organisations } from '../ui/common';
import { showProblem } from '../ui/errors';
import { select, textInput } from '../ui/forms';
import { ORGANISATION_TYPES } from './organisations';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag: string, attrs: Record<string, string | number>, ...children: (Node | string)[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

let chartSeq = 0;

/** A horizontal bar chart of the system row: one bar per column with a count. */
function chart(t: InsightsTable): SVGElement | null {
  const row = t.rows.find((r) => r.scope === 'system');
  if (!row) return null;
  const bars = t.columns
    .map((c, i) => ({ label: c.label, cell: row.cells[i]! }))
    .filter((b) => b.cell.value !== null && b.cell.value !== undefined && !b.label.startsWith('Median'));
  if (!bars.length) return null;
  const max = Math.max(1, ...bars.map((b) => b.cell.value ?? 0));
  const rowH = 24;
  const labelW = 230;
  const barW = 360;
  const height = bars.length * rowH + 8;
  const id = `insights-chart-${++chartSeq}`;
  const desc = bars.map((b) => `${b.label}: ${b.cell.text}`).join('; ');
  return svg(
    'svg',
    { role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`, viewBox: `0 0 ${labelW + barW + 60} ${height}`, width: '100%', class: 'qnet-insights-chart', focusable: 'false' },
    svg('title', { id: `${id}-title` }, `${t.caption}, all organisations`),
    svg('desc', { id: `${id}-desc` }, desc),
    ...bars.map((b, i) => {
      const y = i * rowH + 4;
      const w = Math.round(((b.cell.value ?? 0) / max) * barW);
      return svg(
        'g',
        {},
        svg('text', { x: labelW - 8, y: y + 16, 'text-anchor': 'end', 'font-size': 14, fill: '#212b32' }, b.label),
        svg('rect', { x: labelW, y, width: Math.max(w, 1), height: rowH - 6, fill: '#005eb8' }),
        svg('text', { x: labelW + w + 6, y: y + 16, 'font-size': 14, fill: '#212b32' }, b.cell.text),
      );
    }),
  );
}

function table(t: InsightsTable): HTMLElement {
  return h(
    'div',
    { class: 'qnet-table-scroll', tabindex: '0', role: 'region', 'aria-label': t.caption },
    h(
      'table',
      { class: 'nhsuk-table' },
      h('caption', { class: 'nhsuk-table__caption nhsuk-table__caption--s' }, t.caption),
      h(
        'thead',
        { class: 'nhsuk-table__head' },
        h('tr', null, [h('th', { scope: 'col', class: 'nhsuk-table__header' }, 'Organisation'), ...t.columns.map((c) => h('th', { scope: 'col', class: 'nhsuk-table__header' }, c.label))]),
      ),
      h(
        'tbody',
        { class: 'nhsuk-table__body' },
        t.rows.map((r) =>
          h(
            'tr',
            { class: 'nhsuk-table__row' },
            h('th', { scope: 'row', class: 'nhsuk-table__header' }, r.label),
            r.cells.map((c) => h('td', { class: 'nhsuk-table__cell' }, c.text)),
          ),
        ),
      ),
    ),
  );
}

function downloadLink(ctx: PageContext, t: InsightsTable, query: Record<string, string>): HTMLElement {
  const q = { ...query, table: t.name };
  const a = h('a', { class: 'nhsuk-link', href: apiUrl('/insights.csv', q) }, 'Download CSV', h('span', { class: 'nhsuk-u-visually-hidden' }, ` of ${t.caption}`));
  a.addEventListener('click', async (e) => {
    e.preventDefault();
    try {
      const blob = await getBlob('/insights.csv', 'text/csv', q);
      const file = h('a', { href: URL.createObjectURL(blob), download: `insights-${t.name}.csv`, hidden: true });
      document.body.append(file);
      file.click();
      setTimeout(() => {
        URL.revokeObjectURL(file.href);
        file.remove();
      }, 1000);
    } catch (err) {
      showProblem(ctx, err);
    }
  });
  return h('p', null, a);
}

export default async function insightsPage(ctx: PageContext): Promise<void> {
  const query: Record<string, string> = {};
  for (const k of ['from', 'to', 'organisation', 'organisation_type']) {
    const v = ctx.query.get(k);
    if (v) query[k] = v;
  }
  heading(ctx, 'Insights');
  ctx.main.append(
    h('p', null, 'Quality improvement activity across the system, by organisation type and by organisation. Projects are counted as they are now; everything else in the months you choose.'),
    h('p', null, 'To protect people, every count is rounded to the nearest 5, and a count from 1 to 4 is shown as "fewer than 5".'),
  );
  let orgs: OrganisationList['items'] = [];
  try {
    orgs = await organisations();
  } catch (err) {
    showProblem(ctx, err);
  }
  const form = h(
    'form',
    { method: 'get', action: ctx.path, class: 'nhsuk-u-margin-bottom-5' },
    h(
      'fieldset',
      { class: 'nhsuk-fieldset' },
      h('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--s' }, 'Period'),
      textInput({ field: 'from', label: 'From month', hint: 'For example, 2026-01', value: query.from ?? '', width: '10' }),
      textInput({ field: 'to', label: 'To month', hint: 'For example, 2026-12. At most 36 months.', value: query.to ?? '', width: '10' }),
    ),
    select({
      field: 'organisation_type',
      label: 'Organisation type',
      value: query.organisation_type ?? '',
      options: [['', 'All types'], ...Object.entries(ORGANISATION_TYPES)],
    }),
    select({
      field: 'organisation',
      label: 'Organisation',
      value: query.organisation ?? '',
      options: [['', 'All organisations'], ...orgs.map((o): [string, string] => [o.id, o.name])],
    }),
    h('button', { class: 'nhsuk-button nhsuk-button--secondary', type: 'submit' }, 'Show insights'),
  );
  ctx.main.append(form);
  let view: InsightsView;
  try {
    view = await getJson<InsightsView>('/insights', query);
  } catch (err) {
    showProblem(ctx, err, { from: 'From month', to: 'To month', organisation: 'Organisation', organisation_type: 'Organisation type' });
    return;
  }
  ctx.main.append(h('p', { class: 'nhsuk-body-s' }, `Showing ${view.from} to ${view.to}.`));
  for (const t of view.tables) {
    ctx.main.append(
      h(
        'section',
        { 'aria-labelledby': `insights-${t.name}` },
        h('h2', { id: `insights-${t.name}` }, t.caption),
        h('p', null, t.description),
        chart(t) ?? '',
        table(t),
        downloadLink(ctx, t, query),
      ),
    );
  }
}
