// The event browser: a page of events from an offset or a date-time, with next/previous, a
// filter by key and by one header, and payloads shown as JSON, text or hex. Its whole state
// lives in the hash (#/topics/<t>/events?from=…&size=…&view=…&key=…&hname=…&hvalue=…&time=…),
// so a page can be reloaded, bookmarked and navigated with the browser's back button.

import { api, isAbort, topicPath, withQuery } from '../api.js';
import { inputBytes, toBase64 } from '../bytes.js';
import { h, replace } from '../dom.js';
import { formatCount, formatOffsets, formatTime, millisToNanos } from '../format.js';
import { eventCard, modeSwitch } from '../eventview.js';
import { crumbs, errorBox, linkButton, pageHead, showError } from '../ui.js';

const SIZES = [10, 25, 50, 100, 200];
const DEFAULT_SIZE = 25;

function stateFrom(query) {
  const size = Number(query.get('size'));
  return {
    from: /^\d+$/.test(query.get('from') || '') ? query.get('from') : '',
    time: query.get('time') || '',
    size: SIZES.includes(size) ? size : DEFAULT_SIZE,
    view: ['auto', 'json', 'text', 'hex'].includes(query.get('view')) ? query.get('view') : 'auto',
    key: query.get('key') || '',
    hname: query.get('hname') || '',
    hvalue: query.get('hvalue') || '',
  };
}

function hashOf(name, state) {
  const q = new URLSearchParams();
  for (const field of ['from', 'time', 'size', 'view', 'key', 'hname', 'hvalue']) {
    const value = state[field];
    if (value === '' || value === undefined) continue;
    if (field === 'size' && value === DEFAULT_SIZE) continue;
    if (field === 'view' && value === 'auto') continue;
    q.set(field, value);
  }
  const qs = q.toString();
  return `#/topics/${encodeURIComponent(name)}/events${qs ? `?${qs}` : ''}`;
}

function field(label, control) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control);
}

export function mount(root, { params, query, signal }) {
  const [name] = params;
  const state = stateFrom(query);
  const go = (changes) => { location.hash = hashOf(name, { ...state, ...changes }); };
  document.title = `${name} events · Goethe`;

  // Where to read from: an offset, or a date-time resolved by Seek.
  const fromInput = h('input', {
    type: 'text', inputmode: 'numeric', pattern: '[0-9]*', placeholder: 'first', value: state.from,
    testid: 'from-offset', 'aria-label': 'From offset',
  });
  const timeInput = h('input', { type: 'datetime-local', step: '1', value: state.time, testid: 'from-time', 'aria-label': 'From date-time' });
  const offsetForm = h('form', { class: 'inline', testid: 'from-offset-form', onsubmit: (e) => {
    e.preventDefault();
    const from = fromInput.value.trim();
    if (from !== '' && !/^\d+$/.test(from)) { fromInput.setCustomValidity('an offset is a whole number'); fromInput.reportValidity(); return; }
    go({ from, time: '' });
  } }, field('From offset', fromInput), h('button', { type: 'submit', testid: 'from-offset-go' }, 'Read'));
  fromInput.addEventListener('input', () => fromInput.setCustomValidity(''));
  const timeForm = h('form', { class: 'inline', testid: 'from-time-form', onsubmit: (e) => {
    e.preventDefault();
    if (timeInput.value) go({ time: timeInput.value, from: '' });
  } }, field('From date-time (local)', timeInput), h('button', { type: 'submit', testid: 'from-time-go' }, 'Seek'));
  const sizeSelect = h('select', { testid: 'page-size', 'aria-label': 'Page size', onchange: () => go({ size: Number(sizeSelect.value) }) },
    SIZES.map((n) => h('option', { value: n, selected: n === state.size }, `${n} per page`)));

  // Filter: a key, and one header name=value (the JSON API's query can express one header).
  const keyInput = h('input', { type: 'text', value: state.key, placeholder: 'text, or 0x… for bytes', testid: 'filter-key' });
  const hnameInput = h('input', { type: 'text', value: state.hname, placeholder: 'name', testid: 'filter-header-name', class: 'short' });
  const hvalueInput = h('input', { type: 'text', value: state.hvalue, placeholder: 'value', testid: 'filter-header-value' });
  const filterForm = h('form', { class: 'inline', testid: 'filter-form', onsubmit: (e) => {
    e.preventDefault();
    go({ key: keyInput.value, hname: hnameInput.value.trim(), hvalue: hvalueInput.value, from: state.from, time: state.time });
  } },
  field('Key', keyInput),
  field('Header', h('span', { class: 'pair' }, hnameInput, h('span', { class: 'eq' }, '='), hvalueInput)),
  h('button', { type: 'submit', testid: 'filter-apply' }, 'Filter'),
  (state.key || state.hname)
    ? h('button', { type: 'button', class: 'ghost', testid: 'filter-clear', onclick: () => go({ key: '', hname: '', hvalue: '' }) }, 'Clear')
    : null);

  const list = h('div', { class: 'events', testid: 'events-list' }, h('p', { class: 'muted' }, 'Loading…'));
  let shownEvents = [];
  const renderList = () => {
    if (shownEvents.length) replace(list, shownEvents.map((ev) => eventCard(ev, state.view)));
  };
  const modes = modeSwitch(state.view, (view) => {
    state.view = view;
    history.replaceState(null, '', hashOf(name, state)); // no reload: the events are at hand
    renderList();
  });

  const error = errorBox();
  const note = h('p', { class: 'message info', testid: 'seek-note', hidden: true });
  const pagers = [makePager('top'), makePager('bottom')];
  const filtering = Boolean(state.key || state.hname);
  replace(root,
    crumbs(['Topics', '#/topics'], [name, `#/topics/${encodeURIComponent(name)}`], ['Events']),
    pageHead(`${name}`, 'Event browser', linkButton(`#/topics/${encodeURIComponent(name)}/tail`, 'Live tail', 'open-tail')),
    h('section', { class: 'card toolbar' },
      h('div', { class: 'toolbar-row' }, offsetForm, timeForm, h('div', { class: 'grow' }), field('Page size', sizeSelect)),
      h('div', { class: 'toolbar-row' }, filterForm, h('div', { class: 'grow' }), field('Payload', modes))),
    error, note,
    filtering ? h('p', { class: 'filter-state', testid: 'filter-state' }, 'Filtered: ',
      state.key ? h('code', null, `key = ${state.key}`) : null,
      state.hname ? h('code', null, `${state.hname} = ${state.hvalue}`) : null) : null,
    pagers[0].el, list, pagers[1].el);

  load().catch((e) => {
    if (isAbort(e)) return;
    showError(error, e);
    replace(list);
    for (const pager of pagers) pager.el.hidden = true;
  });

  async function load() {
    const describe = api(topicPath(name), { signal });
    describe.catch(() => {}); // its failure is reported below; a failed seek must not leave it unhandled
    let from = state.from || '0';
    if (state.time) {
      const ms = new Date(state.time).getTime(); // datetime-local: the browser's time zone
      if (Number.isNaN(ms)) throw new Error(`'${state.time}' is not a date-time`);
      const seek = await api(withQuery(topicPath(name, '/seek'), { 'start.timeUnixNanos': millisToNanos(ms) }), { signal });
      from = seek.resolvedOffset;
      note.textContent = seek.resolvedOffset === seek.head
        ? `No event at or after ${formatTime(ms, { millis: false })}: this is the end of the topic (offset ${formatCount(seek.head)}).`
        : `First event at or after ${formatTime(ms, { millis: false })}: offset ${formatCount(seek.resolvedOffset)}.`;
      note.hidden = false;
      fromInput.value = from;
    }
    const filter = {};
    if (state.key) filter['filter.key'] = toBase64(inputBytes(state.key));
    if (state.hname) {
      filter['filter.headers.name'] = state.hname;
      filter['filter.headers.value'] = toBase64(inputBytes(state.hvalue));
    }
    const [{ topic }, page] = await Promise.all([
      describe,
      api(withQuery(topicPath(name, '/events'), { fromOffset: from, maxEvents: state.size, ...filter }), { signal }),
    ]);
    if (signal.aborted) return;
    show(topic, page);
  }

  function show(topic, page) {
    shownEvents = page.events || [];
    const first = BigInt(topic.firstOffset);
    const resolved = BigInt(page.resolvedOffset);
    const next = BigInt(page.nextOffset);
    const head = BigInt(page.head);
    const prevFrom = resolved - BigInt(state.size) > first ? resolved - BigInt(state.size) : first;
    let range;
    if (shownEvents.length) {
      const a = shownEvents[0].offset;
      const b = shownEvents.at(-1).offset;
      range = filtering
        ? `${shownEvents.length} matching in offsets ${formatOffsets(resolved, next)}`
        : `Offsets ${formatCount(a)} – ${formatCount(b)}`;
    } else {
      range = next > resolved ? `No match in offsets ${formatOffsets(resolved, next)}` : 'No events';
    }
    const extent = `topic holds ${formatOffsets(topic.firstOffset, topic.nextOffset)}`;
    for (const pager of pagers) {
      pager.update({
        range, extent,
        prev: resolved > first ? () => go({ from: String(prevFrom), time: '' }) : null,
        next: next < head ? () => go({ from: String(next), time: '' }) : null,
        newest: () => go({ from: String(head - BigInt(state.size) > first ? head - BigInt(state.size) : first), time: '' }),
      });
    }
    if (shownEvents.length) {
      renderList();
    } else {
      replace(list, h('div', { class: 'card empty-state', testid: 'events-empty' },
        next >= head
          ? `Nothing ${filtering ? 'matches ' : ''}from offset ${formatCount(resolved)} to the end of the topic (offset ${formatCount(head)}). New events appear on Refresh, or in the live tail.`
          : `No event matches in offsets ${formatOffsets(resolved, next)}; Next reads on from ${formatCount(next)}.`,
        ' ', h('button', { type: 'button', class: 'ghost', onclick: () => window.dispatchEvent(new HashChangeEvent('hashchange')) }, 'Refresh')));
    }
  }
}

// Previous / range / Next (above and below the list).
function makePager(where) {
  const range = h('span', { class: 'range', testid: where === 'top' ? 'page-range' : null });
  const extent = h('span', { class: 'muted' });
  const prev = h('button', { type: 'button', testid: where === 'top' ? 'prev' : 'prev-bottom', disabled: true }, '← Previous');
  const next = h('button', { type: 'button', testid: where === 'top' ? 'next' : 'next-bottom', disabled: true }, 'Next →');
  const newest = h('button', { type: 'button', class: 'ghost', testid: where === 'top' ? 'newest' : null }, 'Newest');
  let actions = {};
  prev.addEventListener('click', () => actions.prev && actions.prev());
  next.addEventListener('click', () => actions.next && actions.next());
  newest.addEventListener('click', () => actions.newest && actions.newest());
  const el = h('div', { class: ['pager', where] }, prev, h('div', { class: 'pager-mid' }, range, extent), newest, next);
  return {
    el,
    update(a) {
      actions = a;
      range.textContent = a.range;
      extent.textContent = a.extent;
      prev.disabled = !a.prev;
      next.disabled = !a.next;
    },
  };
}
