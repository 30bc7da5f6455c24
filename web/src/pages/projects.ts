import { getJson } from '../api/client';
import type { ProjectList } from '../api/types';
import { h, link } from '../dom';
import type { PageContext } from '../router';
import { card, cardList, filterForm, heading, organisations, pagination, topicNames, topicTags } from '../ui/common';
import { select } from '../ui/forms';

export const CLASSIFICATIONS: Record<string, string> = {
  quality_improvement: 'Quality improvement',
  audit: 'Clinical audit',
  service_evaluation: 'Service evaluation',
  research: 'Research',
};
export const STATUSES: Record<string, string> = { idea: 'Idea', active: 'Active', sustaining: 'Sustaining', completed: 'Completed', stopped: 'Stopped' };

export default async function projects(ctx: PageContext): Promise<void> {
  const q = (k: string) => ctx.query.get(k);
  const [list, names, orgs] = await Promise.all([
    getJson<ProjectList>('/projects', { topic: q('topic'), organisation: q('organisation'), status: q('status'), classification: q('classification'), cursor: q('cursor'), limit: 20 }),
    topicNames(),
    organisations(),
  ]);
  const orgNames = new Map(orgs.map((o) => [o.id, o.name]));
  heading(ctx, 'Projects');
  const any = (label: string): [string, string] => ['', label];
  ctx.main.append(
    h('p', null, 'Quality-improvement projects registered by teams across the system.'),
    h('p', null, link('/projects/new', 'Register a project', 'nhsuk-button')),
    filterForm(ctx, [
      select({ field: 'topic', label: 'Topic', value: q('topic'), options: [any('Any topic'), ...Array.from(names.entries())] }),
      select({ field: 'organisation', label: 'Organisation', value: q('organisation'), options: [any('Any organisation'), ...orgs.map((o): [string, string] => [o.id, o.name])] }),
      select({ field: 'status', label: 'Status', value: q('status'), options: [any('Any status'), ...Object.entries(STATUSES)] }),
      select({ field: 'classification', label: 'Kind of work', value: q('classification'), options: [any('Any kind'), ...Object.entries(CLASSIFICATIONS)] }),
    ]),
    cardList(
      list.items.map((p) =>
        card({
          href: `/projects/${encodeURIComponent(p.id)}`,
          title: p.title,
          description: p.aim,
          meta: [
            h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-1' }, [`Status: ${STATUSES[p.status] ?? p.status}`, p.classification ? ` · ${CLASSIFICATIONS[p.classification]}` : '', p.organisation_ids.length ? ` · ${p.organisation_ids.map((o) => orgNames.get(o) ?? o).join(', ')}` : '']),
            topicTags(p.topics, names),
          ],
        }),
      ),
      'No projects match.',
    ),
    pagination(ctx, list.next_cursor) ?? '',
  );
}
