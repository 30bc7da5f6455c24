import { getJson, send } from '../api/client';
import { RESOURCE_KINDS, type ResourceView } from '../api/types';
import { clear, h, link } from '../dom';
import type { PageContext } from '../router';
import { heading, topics } from '../ui/common';
import { showFieldErrors, showProblem } from '../ui/errors';
import { busy, button, checkboxes, initCounts, radios, select, textInput, textarea, values } from '../ui/forms';
import { upload, uploadRow } from '../ui/upload';
import { KIND_NAMES } from './resource';

const LABELS: Record<string, string> = { title: 'Title', description: 'Description', kind: 'Type', topics: 'Topics', url: 'Link' };

export default async function shareResource(ctx: PageContext): Promise<void> {
  const allTopics = await topics();
  heading(ctx, 'Share a resource');
  ctx.main.append(h('p', null, 'Share a guide, tool, template, slides, a video or a dataset as a file, or a link to it. A moderator checks it before it is published.'));
  const fileInput = h('input', { class: 'nhsuk-file-upload', id: 'f-file', name: 'file', type: 'file', 'aria-describedby': 'f-file-hint' });
  const form = h(
    'form',
    { method: 'post', novalidate: true },
    textInput({ field: 'title', label: 'Title' }),
    textarea({ field: 'description', label: 'Description', hint: 'What it is, who it is for and how to use it.', rows: 5, maxlength: 5000 }),
    select({ field: 'kind', label: 'Type', value: 'guide', options: RESOURCE_KINDS.map((k): [string, string] => [k, KIND_NAMES[k] ?? k]) }),
    checkboxes({ field: 'topics', legend: 'Topics', items: allTopics.map((t) => ({ value: t.id, label: t.name })), small: true }),
    radios({
      field: 'format',
      legend: 'How are you sharing it?',
      value: 'file',
      items: [
        { value: 'file', label: 'Upload a file' },
        { value: 'link', label: 'A link to a web page' },
      ],
    }),
    h('div', { class: 'nhsuk-form-group' }, h('label', { class: 'nhsuk-label', for: 'f-file' }, 'File'), h('div', { class: 'nhsuk-hint', id: 'f-file-hint' }, 'Up to 10 MB. Programs and scripts are not accepted.'), fileInput),
    textInput({ field: 'url', label: 'Link', hint: 'The full address, starting https://', type: 'url', inputmode: 'url' }),
    button('Submit for review'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = values(form);
    const format = v.text('format') || 'file';
    const file = fileInput.files?.[0];
    const url = v.text('url');
    const kind = v.text('kind');
    const errors: { field: string; message: string }[] = [];
    if (!v.text('title')) errors.push({ field: 'title', message: 'Enter a title' });
    if (!v.text('description')) errors.push({ field: 'description', message: 'Enter a description' });
    if (format === 'link' || kind === 'link') {
      if (!/^https:\/\/\S+$/.test(url)) errors.push({ field: 'url', message: 'Enter a link starting https://' });
    } else if (!file) errors.push({ field: 'file', message: 'Choose a file to upload' });
    else if (file.size > 10 * 1024 * 1024) errors.push({ field: 'file', message: 'The file must be 10 MB or smaller' });
    if (errors.length) {
      showFieldErrors(ctx, errors);
      return;
    }
    const isLink = format === 'link' || kind === 'link';
    void busy(form, async () => {
      try {
        const created = await send<ResourceView>('POST', '/resources', {
          create: true,
          body: { title: v.text('title'), description: v.text('description'), kind, topics: v.all('topics'), url: isLink ? url : undefined },
        });
        clear(ctx.main);
        document.title = 'Resource submitted - Qnet';
        const h1 = h('h1', { class: 'nhsuk-panel__title', tabindex: '-1' }, 'Resource submitted');
        ctx.main.append(h('div', { class: 'nhsuk-panel nhsuk-panel--confirmation' }, h1, h('div', { class: 'nhsuk-panel__body' }, 'Your resource is pending review')));
        h1.focus();
        if (!isLink && file) {
          const list = h('ul', { class: 'nhsuk-list' });
          ctx.main.append(h('h2', null, 'File'), list);
          const row = uploadRow(file.name);
          list.appendChild(row.row);
          const path = `/resources/${encodeURIComponent(created.id)}`;
          try {
            await upload(file, `${path}/file`, async (id) => {
              const r = await getJson<ResourceView>(path);
              return r.file?.id === id ? r.file : undefined;
            }, row);
          } catch (err) {
            row.setState(`Not uploaded: ${err instanceof Error ? err.message : 'try again'}`, 'red');
          }
        }
        ctx.main.append(h('p', null, link(`/resources/${encodeURIComponent(created.id)}`, 'View your resource')));
      } catch (err) {
        showProblem(ctx, err, LABELS);
      }
    });
  });
  ctx.main.append(form);
  initCounts(form);
}
