// The topic list: every topic's extent and an append-rate sparkline, polled every 2 s. The rate
// comes from each topic's next offset (offsets are dense, so its growth is the events appended,
// whatever retention deletes meanwhile).

import { api, isAbort, poll } from '../api.js';
import { h, replace, table } from '../dom.js';
import { formatAgo, formatBytes, formatCount, formatOffsets, formatRate, formatTime, nanosToMillis } from '../format.js';
import { RateHistory, sparkline } from '../sparkline.js';
import { errorBox, pageHead, showError } from '../ui.js';

const POLL_MS = 2000;
const history = new Map(); // topic name -> RateHistory, kept while the console stays open

function timeCell(nanos) {
  const ms = nanosToMillis(nanos);
  if (ms === null) return h('td', { class: 'muted' }, '–');
  return h('td', { class: 'time', title: new Date(ms).toISOString() },
    formatTime(ms, { millis: false }), h('div', { class: 'sub' }, formatAgo(ms)));
}

function rateCell(name) {
  const rates = history.get(name)?.rates() ?? [];
  const now = rates.length ? rates.at(-1) : null;
  const peak = rates.length ? Math.max(...rates) : 0;
  return h('td', { class: 'rate' },
    h('div', { class: 'rate-box' },
      sparkline(rates, { label: `append rate, peak ${formatRate(peak, 'ev')}` }),
      h('span', { class: 'rate-now', testid: 'topic-rate' }, now === null ? '…' : formatRate(now, 'ev'))));
}

function row(t) {
  const link = `#/topics/${encodeURIComponent(t.name)}`;
  return h('tr', { testid: 'topic-row', 'data-topic': t.name },
    h('td', null, h('a', { href: link, class: 'topic-name', testid: 'topic-link' }, t.name)),
    h('td', { class: 'num', testid: 'topic-events' }, formatCount(t.eventCount)),
    h('td', { class: 'num', testid: 'topic-bytes' }, formatBytes(t.bytes)),
    h('td', { class: 'num muted' }, formatOffsets(t.firstOffset, t.nextOffset)),
    timeCell(t.firstTimestampUnixNanos),
    timeCell(t.lastTimestampUnixNanos),
    rateCell(t.name),
    h('td', { class: 'row-actions' },
      h('a', { href: `${link}/events`, testid: 'topic-browse' }, 'Events'),
      h('a', { href: `${link}/tail`, testid: 'topic-tail' }, 'Tail')));
}

export function mount(root, { signal }) {
  const head = h('div');
  const error = errorBox();
  const body = h('div', { class: 'card flush' }, h('p', { class: 'muted pad' }, 'Loading topics…'));
  replace(root, head, error, body);
  replace(head, pageHead('Topics', 'Loading…'));
  document.title = 'Topics · Goethe';

  poll(async () => {
    let answer;
    try {
      answer = await api('/v1/topics', { signal });
      showError(error, null);
    } catch (e) {
      if (!isAbort(e)) showError(error, e);
      return;
    }
    if (signal.aborted) return;
    const topics = answer.topics || [];
    const at = performance.now();
    for (const t of topics) {
      if (!history.has(t.name)) history.set(t.name, new RateHistory(40));
      history.get(t.name).add(Number(t.nextOffset), at);
    }
    let events = 0n;
    let bytes = 0;
    for (const t of topics) {
      events += BigInt(t.eventCount);
      bytes += Number(t.bytes);
    }
    const plural = topics.length === 1 ? 'topic' : 'topics';
    replace(head, pageHead('Topics',
      `${formatCount(topics.length)} ${plural} · ${formatCount(events)} events · ${formatBytes(bytes)} · refreshed every ${POLL_MS / 1000} s`));
    replace(body, table('topics-table',
      [
        'Topic', [{ class: 'num' }, 'Events'], [{ class: 'num' }, 'Bytes'], [{ class: 'num' }, 'Offsets'],
        'First event', 'Last event', 'Append rate', ''],
      topics.map(row),
      'No topics yet. Producing an event to a new name creates its topic.'));
  }, POLL_MS, signal);
}
