// One event as a card (offset, time, size, key, headers, payload), shared by the event browser
// and the live tail. Every piece of event data is set as text, never as markup.

import { h } from './dom.js';
import { fromBase64, renderPayload, smallValue } from './bytes.js';
import { formatAgo, formatBytes, formatCount, formatTime, nanosToMillis } from './format.js';

export const PAYLOAD_MODES = [
  ['auto', 'Auto'],
  ['json', 'JSON'],
  ['text', 'Text'],
  ['hex', 'Hex'],
];

function valueNode(bytes, testid) {
  const { text, hex } = smallValue(bytes);
  return h('code', { class: ['value', hex && 'hex'], testid, title: hex ? 'not printable text: shown as hex' : null }, text);
}

export function payloadNode(bytes, mode) {
  const shown = renderPayload(bytes, mode);
  const pre = h('pre', { class: ['payload', `payload-${shown.kind}`], testid: 'event-payload', 'data-kind': shown.kind });
  if (shown.segments) {
    for (const seg of shown.segments) pre.append(seg.cls ? h('span', { class: seg.cls }, seg.text) : seg.text);
  } else {
    pre.textContent = shown.text;
  }
  return { pre, kind: shown.kind, note: shown.note };
}

/** The card for `event` (the API's JSON), its payload shown in `mode`. */
export function eventCard(event, mode, { fresh = false } = {}) {
  const payload = fromBase64(event.payload);
  const key = fromBase64(event.key);
  const ms = nanosToMillis(event.timestampUnixNanos);
  const shown = payloadNode(payload, mode);
  const headers = event.headers || [];
  return h('article', { class: ['event', fresh && 'fresh'], testid: 'event', 'data-offset': event.offset },
    h('header', { class: 'event-meta' },
      h('span', { class: 'offset', testid: 'event-offset', title: 'offset' }, `#${formatCount(event.offset)}`),
      h('time', { testid: 'event-time', datetime: ms ? new Date(ms).toISOString() : '', title: ms ? new Date(ms).toISOString() : '' },
        formatTime(ms)),
      h('span', { class: 'muted' }, formatAgo(ms)),
      h('span', { class: 'muted' }, formatBytes(payload.length)),
      event.deliveryCount ? h('span', { class: 'muted' }, `delivered ${event.deliveryCount}×`) : null,
      h('span', { class: 'spacer' }),
      h('span', { class: ['kind', `kind-${shown.kind}`], testid: 'payload-kind' }, shown.kind)),
    key.length || headers.length
      ? h('div', { class: 'event-attrs' },
        key.length ? h('span', { class: 'attr key' }, h('span', { class: 'attr-name' }, 'key'), valueNode(key, 'event-key')) : null,
        headers.map((header) => h('span', { class: 'attr header', testid: 'event-header' },
          h('span', { class: 'attr-name' }, header.name), '=', valueNode(fromBase64(header.value)))))
      : null,
    shown.pre,
    shown.note ? h('p', { class: 'note' }, shown.note) : null);
}

/** A segmented switch of payload modes; `onChange(mode)`. */
export function modeSwitch(current, onChange) {
  return h('div', { class: 'segmented', role: 'group', 'aria-label': 'Payload view', testid: 'payload-mode' },
    PAYLOAD_MODES.map(([mode, label]) => h('button', {
      type: 'button',
      class: mode === current ? 'active' : null,
      'aria-pressed': String(mode === current),
      'data-mode': mode,
      testid: `mode-${mode}`,
      onclick: (e) => {
        for (const b of e.currentTarget.parentElement.children) {
          b.classList.toggle('active', b === e.currentTarget);
          b.setAttribute('aria-pressed', String(b === e.currentTarget));
        }
        onChange(mode);
      },
    }, label)));
}
