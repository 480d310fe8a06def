// The live tail: events as they are appended (newest on top), from the SSE route
// GET /v1/topics/<t>/events?follow=true&from=end. Pause holds new events back without losing
// them; a dropped stream reconnects from the offset after the last event seen.

import { api, isAbort, topicPath, withQuery } from '../api.js';
import { h, replace } from '../dom.js';
import { formatCount } from '../format.js';
import { eventCard, modeSwitch } from '../eventview.js';
import { readEvents } from '../sse.js';
import { crumbs, errorText, linkButton, pageHead } from '../ui.js';

const MAX_SHOWN = 200; // cards kept on the page
const MAX_HELD = 5000; // events held while paused
const RETRY_MS = 2000;

export function mount(root, { params, signal }) {
  const [name] = params;
  const base = `#/topics/${encodeURIComponent(name)}`;
  document.title = `${name} live · Goethe`;
  let view = 'auto';
  let paused = false;
  let seen = 0;
  let lastOffset = null;
  let held = []; // arrived while paused, oldest first
  let shown = []; // newest first

  const status = h('span', { class: 'status connecting', testid: 'tail-status' }, 'connecting');
  const counter = h('span', { class: 'counter', testid: 'tail-count' }, '0 events');
  const heldNote = h('span', { class: 'muted', testid: 'tail-held' });
  const pauseButton = h('button', { type: 'button', testid: 'tail-pause', onclick: togglePause }, 'Pause');
  const clearButton = h('button', { type: 'button', class: 'ghost', testid: 'tail-clear', onclick: clear }, 'Clear');
  const list = h('div', { class: 'events', testid: 'tail-list' });
  const waiting = h('div', { class: 'card empty-state', testid: 'tail-empty' },
    'Waiting for new events… they appear here as they are appended.');
  const modes = modeSwitch(view, (mode) => {
    view = mode;
    replace(list, shown.map((ev) => eventCard(ev, view)));
  });

  replace(root,
    crumbs(['Topics', '#/topics'], [name, base], ['Live tail']),
    pageHead(name, 'Live tail: new events as they are appended',
      linkButton(`${base}/events`, 'Browse events', 'open-events')),
    h('section', { class: 'card toolbar' },
      h('div', { class: 'toolbar-row' }, status, counter, heldNote, h('div', { class: 'grow' }),
        h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Payload'), modes), pauseButton, clearButton)),
    waiting, list);

  function updateCounts() {
    counter.textContent = `${formatCount(seen)} event${seen === 1 ? '' : 's'} seen`;
    heldNote.textContent = held.length ? `· ${formatCount(held.length)} held while paused` : '';
    waiting.hidden = shown.length > 0 || held.length > 0;
  }

  function setStatus(kind, text) {
    status.className = `status ${kind}`;
    status.textContent = text;
  }

  function showNewest(events) {
    // events oldest first; each goes on top
    for (const ev of events) {
      shown.unshift(ev);
      list.prepend(eventCard(ev, view, { fresh: true }));
    }
    while (shown.length > MAX_SHOWN) {
      shown.pop();
      list.lastElementChild.remove();
    }
  }

  function arrived(ev) {
    seen += 1;
    lastOffset = BigInt(ev.offset);
    if (paused) {
      held.push(ev);
      if (held.length > MAX_HELD) held.shift();
    } else {
      showNewest([ev]);
    }
    updateCounts();
  }

  function togglePause() {
    paused = !paused;
    pauseButton.textContent = paused ? 'Resume' : 'Pause';
    pauseButton.classList.toggle('primary', paused);
    if (!paused) {
      showNewest(held.slice(-MAX_SHOWN));
      held = [];
    }
    setStatus(paused ? 'paused' : 'live', paused ? 'paused' : 'live');
    updateCounts();
  }

  function clear() {
    shown = [];
    held = [];
    seen = 0;
    replace(list);
    updateCounts();
  }

  async function follow() {
    while (!signal.aborted) {
      const from = lastOffset === null ? 'end' : String(lastOffset + 1n);
      try {
        const response = await api(withQuery(topicPath(name, '/events'), { follow: 'true', from }), { signal, raw: true });
        setStatus(paused ? 'paused' : 'live', paused ? 'paused' : 'live');
        await readEvents(response, (e) => {
          if (e.event !== 'event') return;
          arrived(JSON.parse(e.data));
        });
        if (signal.aborted) return;
        setStatus('error', 'stream ended; reconnecting…');
      } catch (error) {
        if (isAbort(error) || signal.aborted) return;
        setStatus('error', `${errorText(error)} (retrying)`);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  updateCounts();
  follow();
}
