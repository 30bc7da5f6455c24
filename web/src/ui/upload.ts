// Attachment uploads: SHA-256 in the browser (Web Crypto), a presigned upload
// declared with the API, the bytes sent with XMLHttpRequest so a progress bar
// can follow them, then the API's check followed to ready or refused.

import { send } from '../api/client';
import type { Attachment, AttachmentCreated } from '../api/types';
import { h } from '../dom';

export async function sha256Hex(file: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

// Headers the browser sets itself and refuses from scripts.
const FORBIDDEN = new Set(['content-length', 'host', 'connection', 'expect', 'transfer-encoding']);

function put(url: string, headers: Record<string, string>, file: File, progress: HTMLProgressElement): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [k, v] of Object.entries(headers)) if (!FORBIDDEN.has(k.toLowerCase())) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) {
        progress.max = e.total;
        progress.value = e.loaded;
      }
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        progress.value = progress.max;
        resolve();
      } else reject(new Error(xhr.responseText.trim() || `The upload was refused (${xhr.status})`));
    });
    xhr.addEventListener('error', () => reject(new Error('The upload did not reach the file store')));
    xhr.send(file);
  });
}

export interface UploadRow {
  row: HTMLElement;
  setState(text: string, colour?: 'blue' | 'green' | 'red' | 'orange'): void;
  progress: HTMLProgressElement;
}

export function uploadRow(filename: string): UploadRow {
  const progress = h('progress', { class: 'qnet-progress', max: 1, value: 0, 'aria-label': `Upload of ${filename}` });
  const state = h('strong', { class: 'nhsuk-tag nhsuk-tag--blue' }, 'Waiting');
  const status = h('p', { class: 'nhsuk-u-margin-bottom-2', role: 'status' }, `${filename}: `, state);
  const row = h('li', { class: 'nhsuk-u-margin-bottom-4' }, status, progress);
  return {
    row,
    progress,
    setState(text, colour = 'blue') {
      state.textContent = text;
      state.className = `nhsuk-tag nhsuk-tag--${colour}`;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Uploads one file: `declarePath` answers the presigned upload (POST with
 * AttachmentInput), `read` reads the attachment back until it is checked.
 */
export async function upload(file: File, declarePath: string, read: (id: string) => Promise<Attachment | undefined>, row: UploadRow): Promise<Attachment | undefined> {
  row.setState('Preparing');
  const sha256 = await sha256Hex(file);
  const created = await send<AttachmentCreated>('POST', declarePath, {
    create: true,
    body: { filename: file.name, content_type: file.type || 'application/octet-stream', size: file.size, sha256 },
  });
  row.setState('Uploading');
  await put(created.upload_url, created.upload_headers, file, row.progress);
  row.setState('Checking');
  for (let i = 0; i < 60; i++) {
    const a = await read(created.attachment.id);
    if (a?.status === 'ready') {
      row.setState('Ready', 'green');
      return a;
    }
    if (a?.status === 'rejected') {
      row.setState(`Refused${a.rejection_reason ? `: ${a.rejection_reason}` : ''}`, 'red');
      return a;
    }
    await sleep(i < 10 ? 500 : 2000);
  }
  row.setState('Still checking: look again later on My submissions', 'orange');
  return undefined;
}
