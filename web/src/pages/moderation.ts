import { getJson } from '../api/client';
import type { CaseStudyList, ResourceList } from '../api/types';
import { date, h, link } from '../dom';
import type { PageContext } from '../router';
import { heading, statusTag } from '../ui/common';

export default async function moderation(ctx: PageContext): Promise<void> {
  const [cases, resources] = await Promise.all([
    getJson<CaseStudyList>('/moderation/case-studies', { limit: 100 }),
    getJson<ResourceList>('/moderation/resources', { limit: 100 }),
  ]);
  heading(ctx, 'Moderation');
  ctx.main.append(h('p', null, 'Submissions waiting for review, oldest first. Open one to publish or reject it.'));
  ctx.main.append(h('p', null, link('/moderation/reports', 'Reported questions, answers and notes')));
  ctx.main.append(h('h2', null, `Case studies (${cases.items.length})`));
  ctx.main.append(
    cases.items.length
      ? h(
          'ul',
          { class: 'nhsuk-list nhsuk-list--border' },
          cases.items.map((cs) =>
            h(
              'li',
              null,
              link(`/moderation/case-studies/${encodeURIComponent(cs.id)}`, cs.title),
              ' ',
              statusTag(cs.status, cs.hold),
              h('br'),
              h('span', { class: 'nhsuk-body-s' }, [cs.organisation_name, cs.created_at ? `submitted ${date(cs.created_at)}` : null].filter(Boolean).join(', ')),
            ),
          ),
        )
      : h('p', null, 'No case studies are waiting.'),
  );
  ctx.main.append(h('h2', null, `Resources (${resources.items.length})`));
  ctx.main.append(
    resources.items.length
      ? h(
          'ul',
          { class: 'nhsuk-list nhsuk-list--border' },
          resources.items.map((r) => h('li', null, link(`/moderation/resources/${encodeURIComponent(r.id)}`, r.title), ' ', statusTag(r.status), h('br'), h('span', { class: 'nhsuk-body-s' }, [r.kind, r.organisation_name].filter(Boolean).join(', ')))),
        )
      : h('p', null, 'No resources are waiting.'),
  );
}
