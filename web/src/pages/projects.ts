import { getJson } from '../api/client';
import type { ProjectList } from '../api/types';
import { h } from '../dom';
import type { PageContext } from '../router';
import { card, cardList, heading, pagination, topicNames, topicTags } from '../ui/common';

export default async function projects(ctx: PageContext): Promise<void> {
  const [list, names] = await Promise.all([getJson<ProjectList>('/projects', { topic: ctx.query.get('topic'), status: ctx.query.get('status'), cursor: ctx.query.get('cursor'), limit: 20 }), topicNames()]);
  heading(ctx, 'Projects');
  ctx.main.append(
    h('p', null, 'Quality-improvement projects registered by teams across the system.'),
    cardList(
      list.items.map((p) => card({ href: `/projects/${encodeURIComponent(p.id)}`, title: p.title, description: p.aim, meta: [h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-1' }, `Status: ${p.status.replace(/_/g, ' ')}`), topicTags(p.topics, names)] })),
      'No projects have been registered yet.',
    ),
    pagination(ctx, list.next_cursor) ?? '',
  );
}
