// NHS.UK form components built as DOM. Each field's id comes from the API field
// name it maps to (see fieldId), so problem+json errors find their field.

import { CharacterCount } from 'nhsuk-frontend';
import { h, type Child } from '../dom';
import { fieldId } from './errors';

interface FieldOpts {
  field: string;
  label: string;
  hint?: string;
  value?: string | null;
  required?: boolean;
}

function hintEl(id: string, hint?: string): HTMLElement | null {
  return hint ? h('div', { class: 'nhsuk-hint', id: `${id}-hint` }, hint) : null;
}

export function textInput(o: FieldOpts & { type?: string; autocomplete?: string; width?: string; inputmode?: string }): HTMLElement {
  const id = fieldId(o.field);
  return h(
    'div',
    { class: 'nhsuk-form-group' },
    h('label', { class: 'nhsuk-label', for: id }, o.label),
    hintEl(id, o.hint),
    h('input', {
      class: `nhsuk-input${o.width ? ` nhsuk-input--width-${o.width}` : ''}`,
      id,
      name: o.field,
      type: o.type ?? 'text',
      value: o.value ?? '',
      autocomplete: o.autocomplete ?? 'off',
      spellcheck: o.type === 'email' ? 'false' : null,
      inputmode: o.inputmode ?? null,
      'aria-describedby': o.hint ? `${id}-hint` : null,
    }),
  );
}

export function textarea(o: FieldOpts & { rows?: number; maxlength?: number }): HTMLElement {
  const id = fieldId(o.field);
  const described = [o.hint ? `${id}-hint` : '', o.maxlength ? `${id}-info` : ''].filter(Boolean).join(' ');
  const ta = h('textarea', {
    class: `nhsuk-textarea${o.maxlength ? ' nhsuk-js-character-count' : ''}`,
    id,
    name: o.field,
    rows: o.rows ?? 5,
    'aria-describedby': described || null,
  });
  ta.value = o.value ?? '';
  const group = h(
    'div',
    o.maxlength ? { class: 'nhsuk-form-group nhsuk-character-count', 'data-module': 'nhsuk-character-count', 'data-maxlength': o.maxlength } : { class: 'nhsuk-form-group' },
    h('label', { class: 'nhsuk-label', for: id }, o.label),
    hintEl(id, o.hint),
    ta,
    o.maxlength ? h('div', { class: 'nhsuk-hint nhsuk-character-count__message', id: `${id}-info` }, `You can enter up to ${o.maxlength} characters`) : null,
  );
  return group;
}

/** Starts the character counts in a subtree once it is in the document. */
export function initCounts(root: Element): void {
  for (const el of Array.from(root.querySelectorAll('[data-module="nhsuk-character-count"]'))) {
    try {
      new CharacterCount(el);
    } catch {
      /* already started, or unsupported: the static hint stays */
    }
  }
}

export function select(o: FieldOpts & { options: [string, string][] }): HTMLElement {
  const id = fieldId(o.field);
  const sel = h(
    'select',
    { class: 'nhsuk-select', id, name: o.field, 'aria-describedby': o.hint ? `${id}-hint` : null },
    o.options.map(([v, text]) => h('option', { value: v, selected: v === (o.value ?? '') }, text)),
  );
  return h('div', { class: 'nhsuk-form-group' }, h('label', { class: 'nhsuk-label', for: id }, o.label), hintEl(id, o.hint), sel);
}

export function checkboxes(o: { field: string; legend: string; hint?: string; items: { value: string; label: string }[]; checked?: string[]; small?: boolean }): HTMLElement {
  const id = fieldId(o.field);
  const checked = new Set(o.checked ?? []);
  return h(
    'div',
    { class: 'nhsuk-form-group' },
    h(
      'fieldset',
      { class: 'nhsuk-fieldset', id, tabindex: '-1', 'aria-describedby': o.hint ? `${id}-hint` : null },
      h('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--s' }, o.legend),
      hintEl(id, o.hint),
      h(
        'div',
        { class: `nhsuk-checkboxes${o.small ? ' nhsuk-checkboxes--small' : ''}` },
        o.items.map((it, i) =>
          h(
            'div',
            { class: 'nhsuk-checkboxes__item' },
            h('input', { class: 'nhsuk-checkboxes__input', id: `${id}-${i}`, name: o.field, type: 'checkbox', value: it.value, checked: checked.has(it.value) }),
            h('label', { class: 'nhsuk-label nhsuk-checkboxes__label', for: `${id}-${i}` }, it.label),
          ),
        ),
      ),
    ),
  );
}

export function radios(o: { field: string; legend: string; hint?: string; items: { value: string; label: string; hint?: string }[]; value?: string; inline?: boolean }): HTMLElement {
  const id = fieldId(o.field);
  return h(
    'div',
    { class: 'nhsuk-form-group' },
    h(
      'fieldset',
      { class: 'nhsuk-fieldset', id, tabindex: '-1', 'aria-describedby': o.hint ? `${id}-hint` : null },
      h('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--s' }, o.legend),
      hintEl(id, o.hint),
      h(
        'div',
        { class: `nhsuk-radios${o.inline ? ' nhsuk-radios--inline' : ''}` },
        o.items.map((it, i) =>
          h(
            'div',
            { class: 'nhsuk-radios__item' },
            h('input', {
              class: 'nhsuk-radios__input',
              id: `${id}-${i}`,
              name: o.field,
              type: 'radio',
              value: it.value,
              checked: it.value === o.value,
              'aria-describedby': it.hint ? `${id}-${i}-hint` : null,
            }),
            h('label', { class: 'nhsuk-label nhsuk-radios__label', for: `${id}-${i}` }, it.label),
            it.hint ? h('div', { class: 'nhsuk-hint nhsuk-radios__hint', id: `${id}-${i}-hint` }, it.hint) : null,
          ),
        ),
      ),
    ),
  );
}

export function button(text: string, o: { type?: 'submit' | 'button'; variant?: 'secondary' | 'warning' | 'reverse'; onclick?: EventListener; small?: boolean } = {}): HTMLButtonElement {
  const cls = ['nhsuk-button', o.variant ? `nhsuk-button--${o.variant}` : '', o.small ? 'nhsuk-button--small' : ''].filter(Boolean).join(' ');
  return h('button', { class: cls, type: o.type ?? 'submit', onclick: o.onclick ?? null }, text);
}

export function buttonGroup(...children: Child[]): HTMLElement {
  return h('div', { class: 'nhsuk-button-group' }, children);
}

/** Values of a form's fields by name (checkbox groups as arrays). */
export function values(form: HTMLFormElement): { text(name: string): string; all(name: string): string[]; checked(name: string): boolean } {
  const fd = new FormData(form);
  return {
    text: (n) => String(fd.get(n) ?? '').trim(),
    all: (n) => fd.getAll(n).map(String),
    checked: (n) => fd.has(n),
  };
}

/** Disables a form's submit button while a request is in flight. */
export async function busy<T>(form: HTMLFormElement, f: () => Promise<T>): Promise<T> {
  const buttons = Array.from(form.querySelectorAll<HTMLButtonElement>('button[type="submit"]'));
  for (const b of buttons) b.setAttribute('aria-disabled', 'true');
  try {
    return await f();
  } finally {
    for (const b of buttons) b.removeAttribute('aria-disabled');
  }
}
