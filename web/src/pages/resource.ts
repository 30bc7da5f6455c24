import { apiUrl, getJson } from '../api/client';
import type { ResourceView } from '../api/types';
import { date, h, link, paragraphs, summaryList } from '../dom';
import type { PageContext } from '../router';
import { heading, insetText, statusTag, topicNames, topicTags } from '../ui/common';
import { engagement, sizeText } from './case-study';

export const KIND_NAMES: Record<string, string> = {
  guide: 'Guide',
  tool: 'Tool',
  template: 'Template',
  slides: 'Slides',
  video: 'Video',
  dataset: 'Dataset',
  link: 'Link',
};

export function resourceBody(r: ResourceView, names: Map<string, string>): HTMLElement[] {
  return [
    summaryList([
      ['Type', KIND_NAMES[r.kind] ?? r.kind],
      ['Organisation', r.organisation_name ?? 'Not known'],
      ['Topics', topicTags(r.topics, names) ?? 'None'],
      ['File or link', r.url ? h('span', { class: 'qnet-break' }, r.url) : r.file ? `${r.file.filename} (${sizeText(r.file.size)}, ${r.file.status === 'ready' ? 'checked' : r.file.status === 'rejected' ? `refused${r.file.rejection_reason ? `: ${r.file.rejection_reason}` : ''}` : 'being checked'})` : 'None yet'],
      ['Downloads', String(r.download_count)],
      ...(r.published_at ? ([['Published', date(r.published_at)]] as [string, string][]) : []),
    ]),
    h('section', null, h('h2', null, 'Description'), paragraphs(r.description)),
  ];
}

export default async function resource(ctx: PageContext): Promise<void> {
  const id = ctx.params['id']!;
  const [r, names] = await Promise.all([getJson<ResourceView>(`/resources/${encodeURIComponent(id)}`), topicNames()]);
  heading(ctx, r.title);
  if (r.status !== 'published' || r.hold) {
    ctx.main.append(insetText(h('p', null, 'Status: ', statusTag(r.status, r.hold)), r.hold ? h('p', null, `Held: ${r.hold.reason}`) : null, r.rejection_reason ? h('p', null, `Reason: ${r.rejection_reason}`) : null));
  }
  const downloadable = r.url || r.file?.status === 'ready';
  if (downloadable && r.status === 'published') {
    ctx.main.append(
      h(
        'p',
        null,
        h(
          'a',
          { class: 'nhsuk-button', href: apiUrl(`/resources/${encodeURIComponent(r.id)}/download`), 'data-external': '', rel: 'noopener' },
          r.url ? 'Open the link' : 'Download',
          h('span', { class: 'nhsuk-u-visually-hidden' }, ` ${r.title}`),
        ),
      ),
    );
  }
  ctx.main.append(...resourceBody(r, names));
  if (r.status === 'published' && !r.hold) await engagement(ctx, `/resources/${encodeURIComponent(r.id)}`, r.id, r.submitted_by.member_id);
  ctx.main.append(h('p', null, link('/resources', 'All resources')));
}
