import { getJson } from '../api/client';
import { RESOURCE_KINDS, type ResourceList } from '../api/types';
import { h } from '../dom';
import type { PageContext } from '../router';
import { card, cardList, filterForm, heading, organisations, pagination, topicNames, topicTags, topics } from '../ui/common';
import { select } from '../ui/forms';
import { KIND_NAMES } from './resource';

export default async function resources(ctx: PageContext): Promise<void> {
  const topic = ctx.query.get('topic') ?? '';
  const kind = ctx.query.get('kind') ?? '';
  const org = ctx.query.get('organisation') ?? '';
  const [list, allTopics, orgs, names] = await Promise.all([
    getJson<ResourceList>('/resources', { topic, kind, organisation: org, cursor: ctx.query.get('cursor'), limit: 20 }),
    topics(),
    organisations(),
    topicNames(),
  ]);
  heading(ctx, 'Resources');
  ctx.main.append(
    h('p', null, 'Guides, tools, templates, slides, videos and datasets shared by staff, checked before they are published.'),
    h('p', null, h('a', { class: 'nhsuk-link', href: '/resources/new' }, 'Share a resource')),
    filterForm(ctx, [
      select({ field: 'kind', label: 'Type', value: kind, options: [['', 'All types'], ...RESOURCE_KINDS.map((k): [string, string] => [k, KIND_NAMES[k] ?? k])] }),
      select({ field: 'topic', label: 'Topic', value: topic, options: [['', 'All topics'], ...allTopics.map((t): [string, string] => [t.id, t.name])] }),
      select({ field: 'organisation', label: 'Organisation', value: org, options: [['', 'All organisations'], ...orgs.map((o): [string, string] => [o.id, o.name])] }),
    ]),
    cardList(
      list.items.map((r) =>
        card({
          href: `/resources/${encodeURIComponent(r.id)}`,
          title: r.title,
          description: r.summary,
          meta: [topicTags(r.topics, names), h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-0' }, [KIND_NAMES[r.kind] ?? r.kind, r.organisation_name].filter(Boolean).join(' · '))],
        }),
      ),
      topic || kind || org ? 'No published resources match these filters.' : 'No resources have been published yet.',
    ),
    pagination(ctx, list.next_cursor) ?? '',
  );
}
