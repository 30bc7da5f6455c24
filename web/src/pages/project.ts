import { getJson } from '../api/client';
import type { ProjectView } from '../api/types';
import { h, link, paragraphs, summaryList } from '../dom';
import type { PageContext } from '../router';
import { heading, topicNames, topicTags } from '../ui/common';

export default async function project(ctx: PageContext): Promise<void> {
  const id = ctx.params['id']!;
  const [p, names] = await Promise.all([getJson<ProjectView>(`/projects/${encodeURIComponent(id)}`), topicNames()]);
  heading(ctx, p.title, 'Project');
  ctx.main.append(
    summaryList([
      ['Status', p.status.replace(/_/g, ' ')],
      ['Organisations', p.organisations.map((o) => o.name ?? o.id).join(', ') || 'None'],
      ['Progress', p.progress_label ?? (p.progress_score != null ? String(p.progress_score) : 'Not scored')],
      ['Topics', topicTags(p.topics, names) ?? 'None'],
    ]),
    h('section', null, h('h2', null, 'Aim'), paragraphs(p.aim)),
    p.problem ? h('section', null, h('h2', null, 'The problem'), paragraphs(p.problem)) : '',
    h('p', null, link('/projects', 'All projects')),
  );
}
