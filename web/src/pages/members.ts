import { getJson } from '../api/client';
import type { DirectoryPage } from '../api/types';
import { h, link, tag } from '../dom';
import type { PageContext } from '../router';
import { filterForm, heading, organisations, pagination, topicNames, topicTags, topics } from '../ui/common';
import { select } from '../ui/forms';

export default async function members(ctx: PageContext): Promise<void> {
  const topic = ctx.query.get('topic') ?? '';
  const organisation = ctx.query.get('organisation') ?? '';
  const [page, allTopics, names, orgs] = await Promise.all([
    getJson<DirectoryPage>('/members', { topic, organisation, cursor: ctx.query.get('cursor'), limit: 20 }),
    topics(),
    topicNames(),
    organisations(),
  ]);
  heading(ctx, 'Members');
  ctx.main.append(
    h('p', null, 'People across the system who chose to be listed, so that others can find them. ', link('/settings/profile', 'Choose whether you are listed'), '.'),
    h('p', null, link('/organisations', 'See every organisation in the network')),
    filterForm(ctx, [
      select({ field: 'topic', label: 'Topic', value: topic, options: [['', 'All topics'], ...allTopics.map((t): [string, string] => [t.id, t.name])] }),
      select({ field: 'organisation', label: 'Organisation', value: organisation, options: [['', 'All organisations'], ...orgs.map((o): [string, string] => [o.id, o.name])] }),
    ]),
    page.items.length
      ? h(
          'ul',
          { class: 'nhsuk-list nhsuk-list--border' },
          page.items.map((m) =>
            h(
              'li',
              null,
              h('h2', { class: 'nhsuk-heading-s nhsuk-u-margin-bottom-1' }, m.name, m.mentor ? [' ', tag('Mentor', 'purple')] : null),
              h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-1' }, [m.job_title, m.organisation?.name].filter(Boolean).join(', ') || 'No job title or organisation given'),
              topicTags(m.topics, names),
            ),
          ),
        )
      : h('p', null, topic || organisation ? 'No listed members match these filters.' : 'Nobody is listed yet.'),
    pagination(ctx, page.next_cursor) ?? '',
  );
}
