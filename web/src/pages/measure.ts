import { ApiError, call, getBlob, getJson, send } from '../api/client';
import type { Measure, MeasureAnalysis, PointsUploaded, ProjectView } from '../api/types';
import { date, h, summaryList } from '../dom';
import type { PageContext } from '../router';
import { backLink, filterForm, heading, insetText } from '../ui/common';
import { showFieldErrors, showProblem } from '../ui/errors';
import { busy, button, radios, textInput, textarea, values } from '../ui/forms';

type Signal = MeasureAnalysis['signals'][number];

const KIND_WORDS: Record<string, string> = { improvement: 'an improvement', concern: 'a concern', neither: 'neither better nor worse' };
const VARIATION_WORDS: Record<string, string> = {
  common_cause: 'The latest point is within the limits: common cause variation.',
  special_cause_improvement: 'The latest point shows special cause variation: an improvement.',
  special_cause_concern: 'The latest point shows special cause variation: a concern.',
  special_cause_neither: 'The latest point shows special cause variation, neither better nor worse.',
};
const ASSURANCE_WORDS: Record<string, string> = {
  consistently_met: 'The target is consistently met: it lies beyond the limits on the good side.',
  consistently_missed: 'The target is consistently missed: it lies beyond the limits on the wrong side.',
  inconsistent: 'The target lies within the limits: the process will sometimes meet it and sometimes not.',
};

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
}

/** Day and month, as people say it ("2 March"). */
function day(iso: string): string {
  return new Date(`${iso}T12:00:00Z`).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', timeZone: 'UTC' });
}

/** One signal in words, from the analysis JSON alone. */
export function signalWords(a: MeasureAnalysis, s: Signal): string {
  const idx = s.points;
  const first = a.points[idx[0] ?? 0]!;
  const last = a.points[idx[idx.length - 1] ?? 0]!;
  const seg = a.segments.find((g) => (idx[0] ?? 0) >= g.from_index && (idx[0] ?? 0) <= g.to_index) ?? a.segments[a.segments.length - 1];
  const centre = a.chart === 'run' ? 'median' : 'mean';
  const kind = KIND_WORDS[s.kind] ?? s.kind;
  switch (s.rule) {
    case 'shift': {
      const side = seg && first.value > seg.centre ? 'above' : 'below';
      return `${idx.length} points in a row ${side} the ${centre} from ${day(first.date)}: a shift, ${kind}.`;
    }
    case 'trend':
      return `${idx.length} points in a row ${last.value > first.value ? 'going up' : 'going down'} from ${day(first.date)}: a trend, ${kind}.`;
    case 'astronomical':
      return idx.length === 1
        ? `The point on ${day(first.date)} (${num(first.value)}) is outside the limits: ${kind}.`
        : `${idx.length} points outside the limits, from ${day(first.date)}: ${kind}.`;
    case 'two_in_three':
      return `2 of 3 points near a limit from ${day(first.date)}: ${kind}.`;
    case 'crossings':
      return `The data crosses the median too few times from ${day(first.date)}: non-random variation, ${kind}.`;
    default:
      return `A signal (${s.rule}) from ${day(first.date)}: ${kind}.`;
  }
}

/** The whole analysis in sentences: what a person who cannot see the chart needs. */
export function analysisWords(a: MeasureAnalysis, m: Measure): string[] {
  const out: string[] = [];
  if (!a.points.length) return ['There are no points yet.'];
  const kind = a.chart === 'run' ? 'Run chart' : 'XmR (individuals) chart';
  out.push(`${kind} of ${a.points.length} points from ${date(a.points[0]!.date)} to ${date(a.points[a.points.length - 1]!.date)}.`);
  a.segments.forEach((g, i) => {
    const from = a.points[g.from_index]!;
    const centre = a.chart === 'run' ? 'median' : 'mean';
    const limits = g.lower_limit != null && g.upper_limit != null ? `, with limits from ${num(g.lower_limit)} to ${num(g.upper_limit)}` : '';
    out.push(`${a.segments.length > 1 ? `Stage ${i + 1}, from ${day(from.date)}: the ${centre}` : `The ${centre}`} is ${num(g.centre)}${m.unit ? ` ${m.unit}` : ''}${limits}.`);
  });
  for (const s of a.signals) out.push(signalWords(a, s));
  if (a.chart === 'run') {
    if (!a.signals.length) out.push('No shift, trend or too few crossings: the variation looks random (common cause).');
  } else if (a.variation) out.push(VARIATION_WORDS[a.variation] ?? a.variation);
  if (a.assurance) out.push(ASSURANCE_WORDS[a.assurance] ?? a.assurance);
  for (const n of a.not_evaluated) out.push(`Not checked yet: the ${n.rule.replace(/_/g, ' ')} rule needs ${n.needs_points} points.`);
  return out;
}

const CSV_HINT = 'A header line date,value then one line per point, for example 2026-03-02,14. Dates already on the chart are replaced.';

export default async function measurePage(ctx: PageContext): Promise<void> {
  const pid = ctx.params['id']!;
  const mid = ctx.params['mid']!;
  const base = `/projects/${encodeURIComponent(pid)}`;
  const path = `${base}/measures/${encodeURIComponent(mid)}`;
  const chart = ctx.query.get('chart') === 'xmr' ? 'xmr' : 'run';
  const query = { chart, baseline: ctx.query.get('baseline'), recalculate_from: ctx.query.get('recalculate_from') };
  const [p, m] = await Promise.all([getJson<ProjectView>(base), getJson<Measure>(path)]);
  ctx.main.append(backLink(base, p.title));
  heading(ctx, m.name, 'Measure');
  ctx.main.append(
    summaryList([
      ['Type', `${m.type} measure`],
      ['Better is', m.improvement_direction === 'up' ? 'Higher' : m.improvement_direction === 'down' ? 'Lower' : 'Neither way'],
      ['Unit', m.unit ?? 'None'],
      ['Points', m.point_count ? `${m.point_count}, from ${date(m.first_date)} to ${date(m.last_date)}` : 'None yet'],
      ...(m.target != null ? ([['Target', num(m.target)]] as [string, string][]) : []),
      ...(m.definition ? ([['Definition', m.definition]] as [string, string][]) : []),
    ]),
  );

  // The chart and its words.
  ctx.main.append(
    h('h2', null, 'Chart'),
    filterForm(
      ctx,
      [
        radios({ field: 'chart', legend: 'Chart type', value: chart, inline: true, items: [{ value: 'run', label: 'Run chart' }, { value: 'xmr', label: 'XmR chart' }] }),
        textInput({ field: 'baseline', label: 'Baseline (optional)', hint: 'The first N points of each stage fix its lines.', value: query.baseline, width: '4', inputmode: 'numeric' }),
        textInput({ field: 'recalculate_from', label: 'Break point (optional)', hint: 'New lines from this date, after a change was made.', type: 'date', value: query.recalculate_from, width: '10' }),
      ],
      'Show the chart',
    ),
  );
  if (m.point_count) {
    try {
      const [analysis, svg] = await Promise.all([getJson<MeasureAnalysis>(`${path}/analysis`, query), getBlob(`${path}/chart.svg`, 'image/svg+xml', query)]);
      const words = analysisWords(analysis, m);
      const svgText = await svg.text();
      const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
      const title = doc.querySelector('title')?.textContent ?? m.name;
      ctx.main.append(
        h('figure', { class: 'qnet-chart' }, h('img', { src: URL.createObjectURL(svg), alt: `${title}. ${words.join(' ')}`, class: 'qnet-chart__img' })),
        h('h3', null, 'What the chart shows'),
        h('ul', { class: 'nhsuk-list nhsuk-list--bullet', 'aria-label': 'What the chart shows' }, words.map((w) => h('li', null, w))),
        h(
          'details',
          { class: 'nhsuk-details' },
          h('summary', { class: 'nhsuk-details__summary' }, h('span', { class: 'nhsuk-details__summary-text' }, 'The data as a table')),
          h(
            'div',
            { class: 'nhsuk-details__text' },
            h(
              'table',
              { class: 'nhsuk-table' },
              h('caption', { class: 'nhsuk-table__caption' }, `${m.name}${m.unit ? ` (${m.unit})` : ''}`),
              h('thead', { class: 'nhsuk-table__head' }, h('tr', null, h('th', { scope: 'col' }, 'Date'), h('th', { scope: 'col' }, 'Value'))),
              h('tbody', { class: 'nhsuk-table__body' }, analysis.points.map((pt) => h('tr', null, h('td', null, date(pt.date)), h('td', null, num(pt.value))))),
            ),
          ),
        ),
      );
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) showProblem(ctx, err, { baseline: 'Baseline', recalculate_from: 'Break point' });
      else throw err;
    }
  } else {
    ctx.main.append(insetText('Add points below to see the chart.'));
  }

  // Adding points: one at a time, pasted CSV, or a CSV file.
  const done = (r: PointsUploaded) => {
    sessionStorage.setItem('qnet.flash', `${r.added} points added, ${r.replaced} replaced.`);
    ctx.reload();
  };
  const csvErrors = (err: unknown, field: string) => {
    const fields = err instanceof ApiError ? err.problem?.errors ?? [] : [];
    if (fields.some((f) => f.field.startsWith('line ') || f.field === 'body')) {
      showFieldErrors(ctx, fields.map((f) => ({ field, message: f.field.startsWith('line ') ? `Line ${f.field.slice(5)}: ${f.message}` : f.message })));
    } else showProblem(ctx, err);
  };
  const one = h(
    'form',
    { method: 'post', novalidate: true, 'aria-labelledby': 'add-point' },
    h('h3', { id: 'add-point' }, 'Add a point'),
    textInput({ field: 'date', label: 'Date', type: 'date', width: '10' }),
    textInput({ field: 'value', label: 'Value', inputmode: 'decimal', width: '10' }),
    button('Add the point', { variant: 'secondary' }),
  );
  one.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = values(one);
    const errors: { field: string; message: string }[] = [];
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v.text('date'))) errors.push({ field: 'date', message: 'Enter the date' });
    if (v.text('value') === '' || !Number.isFinite(Number(v.text('value')))) errors.push({ field: 'value', message: 'Enter the value as a number' });
    if (errors.length) return showFieldErrors(ctx, errors);
    void busy(one, async () => {
      try {
        done(await send<PointsUploaded>('POST', `${path}/points`, { body: { points: [{ date: v.text('date'), value: Number(v.text('value')) }] } }));
      } catch (err) {
        showProblem(ctx, err, { 'points[0].date': 'Date', 'points[0].value': 'Value' });
      }
    });
  });
  const postCsv = async (text: string): Promise<PointsUploaded> => {
    const r = await call('POST', `${path}/points`, { rawBody: text, contentType: 'text/csv' });
    return (await r.json()) as PointsUploaded;
  };
  const paste = h(
    'form',
    { method: 'post', novalidate: true, 'aria-labelledby': 'paste-points' },
    h('h3', { id: 'paste-points' }, 'Paste points as CSV'),
    textarea({ field: 'csv', label: 'Points as CSV', hint: CSV_HINT, rows: 8 }),
    button('Add the pasted points', { variant: 'secondary' }),
  );
  paste.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = values(paste).text('csv');
    if (!text) return showFieldErrors(ctx, [{ field: 'csv', message: 'Paste the points' }]);
    void busy(paste, async () => {
      try {
        done(await postCsv(text));
      } catch (err) {
        csvErrors(err, 'csv');
      }
    });
  });
  const file = h('input', { class: 'nhsuk-file-upload', id: 'f-csvfile', name: 'csvfile', type: 'file', accept: '.csv,text/csv', 'aria-describedby': 'f-csvfile-hint' });
  const upload = h(
    'form',
    { method: 'post', novalidate: true, 'aria-labelledby': 'upload-points' },
    h('h3', { id: 'upload-points' }, 'Upload a CSV file'),
    h('div', { class: 'nhsuk-form-group' }, h('label', { class: 'nhsuk-label', for: 'f-csvfile' }, 'CSV file'), h('div', { class: 'nhsuk-hint', id: 'f-csvfile-hint' }, CSV_HINT), file),
    button('Upload the points', { variant: 'secondary' }),
  );
  upload.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = file.files?.[0];
    if (!f) return showFieldErrors(ctx, [{ field: 'csvfile', message: 'Choose a CSV file' }]);
    if (f.size > 2 * 1024 * 1024) return showFieldErrors(ctx, [{ field: 'csvfile', message: 'The file must be 2 MB or smaller' }]);
    void busy(upload, async () => {
      try {
        done(await postCsv(await f.text()));
      } catch (err) {
        csvErrors(err, 'csvfile');
      }
    });
  });
  const note = h(
    'form',
    { method: 'post', novalidate: true, 'aria-labelledby': 'add-annotation' },
    h('h3', { id: 'add-annotation' }, 'Annotate the chart'),
    textInput({ field: 'annotation_date', label: 'Date', type: 'date', width: '10' }),
    textInput({ field: 'annotation_text', label: 'Note', hint: 'What changed then, for example: new discharge checklist. Up to 200 characters.' }),
    button('Add the note', { variant: 'secondary' }),
  );
  note.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = values(note);
    const errors: { field: string; message: string }[] = [];
    if (!v.text('annotation_date')) errors.push({ field: 'annotation_date', message: 'Enter the date' });
    if (!v.text('annotation_text')) errors.push({ field: 'annotation_text', message: 'Enter the note' });
    if (errors.length) return showFieldErrors(ctx, errors);
    void busy(note, async () => {
      try {
        await send('POST', `${path}/annotations`, { create: true, body: { date: v.text('annotation_date'), text: v.text('annotation_text') } });
        ctx.reload();
      } catch (err) {
        showProblem(ctx, err, { date: 'Date', text: 'Note' });
      }
    });
  });
  const flash = sessionStorage.getItem('qnet.flash');
  sessionStorage.removeItem('qnet.flash');
  ctx.main.append(h('h2', null, 'Add data'), flash ? insetText(flash) : '', one, paste, upload, note);
}
