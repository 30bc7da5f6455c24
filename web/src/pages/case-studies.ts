import { getJson } from '../api/client';
import type { CaseStudyList } from '../api/types';
import { date, h } from '../dom';
import type { PageContext } from '../router';
import { card, cardList, filterForm, heading, organisations, pagination, topicNames, topicTags, topics } from '../ui/common';
import { select } from '../ui/forms';

export default async function caseStudies(ctx: PageContext): Promise<void> {
  const topic = ctx.query.get('topic') ?? '';
  const org = ctx.query.get('organisation_id') ?? '';
  const [list, allTopics, orgs, names] = await Promise.all([
    getJson<CaseStudyList>('/case-studies', { topic, organisation_id: org, cursor: ctx.query.get('cursor'), limit: 20 }),
    topics(),
    organisations(),
    topicNames(),
  ]);
  heading(ctx, 'Case studies');
  ctx.main.append(
    h('p', null, 'Improvement work shared by staff across the system, checked by a moderator before it is published.'),
    h('p', null, h('a', { class: 'nhsuk-link', href: '/case-studies/new' }, 'Share a case study')),
    filterForm(ctx, [
      select({ field: 'topic', label: 'Topic', value: topic, options: [['', 'All topics'], ...allTopics.map((t): [string, string] => [t.id, t.name])] }),
      select({ field: 'organisation_id', label: 'Organisation', value: org, options: [['', 'All organisations'], ...orgs.map((o): [string, string] => [o.id, o.name])] }),
    ]),
    cardList(
      list.items.map((cs) =>
        card({
          href: `/case-studies/${encodeURIComponent(cs.id)}`,
          title: cs.title,
          description: cs.summary,
          meta: [
            topicTags(cs.topics, names),
            h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-0' }, [cs.organisation_name, cs.published_at ? `Published ${date(cs.published_at)}` : null].filter(Boolean).join(' · ')),
          ],
        }),
      ),
      topic || org ? 'No published case studies match these filters.' : 'No case studies have been published yet.',
    ),
    pagination(ctx, list.next_cursor) ?? '',
  );
}
