import { apiUrl, getJson } from '../api/client';
import type { CaseStudyView, Sections } from '../api/types';
import { date, h, link, paragraphs, summaryList } from '../dom';
import type { PageContext } from '../router';
import { heading, insetText, statusTag, topicNames, topicTags } from '../ui/common';
import { adoptionSection } from './adoptions';
import { shareSection } from './outward';

export const SECTION_HEADINGS: [keyof Sections, string][] = [
  ['aim', 'Aim'],
  ['background', 'Background'],
  ['what_we_did', 'What we did'],
  ['measures', 'Measures'],
  ['results', 'Results'],
  ['lessons_learned', 'Lessons learned'],
  ['contact', 'Contact'],
];

/** The body the API requires: the sections as text under their headings. */
export function composeBody(sections: Sections): string {
  return SECTION_HEADINGS.filter(([k]) => sections[k])
    .map(([k, label]) => `${label}\n${sections[k]}`)
    .join('\n\n');
}

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The body of a case study: summary, sections, attachments. Shared with the review page. */
export function caseStudyBody(cs: CaseStudyView, names: Map<string, string>): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (cs.summary) out.push(h('p', { class: 'nhsuk-lede-text' }, cs.summary));
  out.push(
    summaryList([
      ['Organisation', cs.organisation_name ?? 'Not known'],
      ['Topics', topicTags(cs.topics, names) ?? 'None'],
      ...(cs.published_at ? ([['Published', date(cs.published_at)]] as [string, string][]) : []),
    ]),
  );
  const sections = SECTION_HEADINGS.filter(([k]) => cs.sections[k]);
  for (const [k, title] of sections) out.push(h('section', null, h('h2', null, title), paragraphs(cs.sections[k] ?? '')));
  const body = cs.body.trim();
  if (body && body !== composeBody(cs.sections).trim() && !sections.some(([k]) => (cs.sections[k] ?? '').trim() === body)) {
    out.push(h('section', null, h('h2', null, sections.length ? 'More about this work' : 'About this work'), paragraphs(cs.body)));
  }
  const files = cs.attachments.filter((a) => a.status === 'ready');
  if (files.length) {
    out.push(
      h(
        'section',
        null,
        h('h2', null, 'Attachments'),
        h(
          'ul',
          { class: 'nhsuk-list' },
          files.map((a) =>
            h('li', null, h('a', { class: 'nhsuk-link', href: apiUrl(`/case-studies/${encodeURIComponent(cs.id)}/attachments/${encodeURIComponent(a.id)}`), 'data-external': '' }, `Download ${a.filename}`), ` (${sizeText(a.size)})`),
          ),
        ),
      ),
    );
  }
  return out;
}

export default async function caseStudy(ctx: PageContext): Promise<void> {
  const id = ctx.params['id']!;
  const [cs, names] = await Promise.all([getJson<CaseStudyView>(`/case-studies/${encodeURIComponent(id)}`), topicNames()]);
  heading(ctx, cs.title);
  if (cs.status !== 'published' || cs.hold) {
    ctx.main.append(
      insetText(
        h('p', null, 'Status: ', statusTag(cs.status, cs.hold)),
        cs.hold ? h('p', null, `Held: ${cs.hold.reason}`) : null,
        cs.rejection_reason ? h('p', null, `Reason: ${cs.rejection_reason}`) : null,
        cs.status === 'pending' ? h('p', null, link(`/case-studies/${encodeURIComponent(cs.id)}/edit`, 'Edit this case study')) : null,
      ),
    );
  }
  ctx.main.append(...caseStudyBody(cs, names));
  if (cs.status === 'published' && !cs.hold) ctx.main.append(await adoptionSection(ctx, cs), await shareSection(ctx, cs));
}
