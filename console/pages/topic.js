// One topic: its extent, its retention and index settings, and who reads it (cursors and
// consumer groups with their lag), refreshed every 3 s.

import { api, isAbort, poll, topicPath } from '../api.js';
import { facts, h, replace, table } from '../dom.js';
import {
  formatAgo, formatBytes, formatCount, formatDuration, formatOffsets, formatTime, nanosToMillis,
} from '../format.js';
import { bar } from '../sparkline.js';
import { crumbs, errorBox, linkButton, pageHead, showError } from '../ui.js';

const POLL_MS = 3000;

function when(nanos) {
  const ms = nanosToMillis(nanos);
  if (ms === null) return h('span', { class: 'muted' }, '–');
  return h('span', { title: new Date(ms).toISOString() }, formatTime(ms, { millis: false }), ' ',
    h('span', { class: 'muted' }, `(${formatAgo(ms)})`));
}

function limit(value, format) {
  return value && value !== '0' ? format(value) : h('span', { class: 'muted' }, 'no limit');
}

function lagCell(lag, retained, testid) {
  const share = Number(retained) > 0 ? Number(lag) / Number(retained) : 0;
  return h('td', { class: 'num lag' },
    h('div', { class: 'lag-box' },
      bar(share, { label: `${formatCount(lag)} of ${formatCount(retained)} retained events` }),
      h('span', { testid }, formatCount(lag))));
}

function extentCard(t) {
  return h('section', { class: 'card' },
    h('h2', null, 'Extent'),
    facts('topic-extent', [
      ['Events retained', formatCount(t.eventCount), 'topic-event-count'],
      ['Bytes retained', formatBytes(t.bytes), 'topic-bytes'],
      ['Offsets', formatOffsets(t.firstOffset, t.nextOffset)],
      ['Next offset', formatCount(t.nextOffset)],
      ['First event', when(t.firstTimestampUnixNanos)],
      ['Last event', when(t.lastTimestampUnixNanos)],
      ['Created', when(t.createdUnixNanos)],
      ['Topic id', formatCount(t.id)],
    ]));
}

function settingsCard(t) {
  const st = t.settings || {};
  return h('section', { class: 'card' },
    h('h2', null, 'Settings'),
    facts('topic-settings', [
      ['Retention age', st.retentionAge && st.retentionAge !== '0s'
        ? formatDuration(st.retentionAge) : h('span', { class: 'muted' }, 'no limit'), 'retention-age'],
      ['Retention bytes', limit(st.retentionBytes, formatBytes), 'retention-bytes'],
      ['Retention events', limit(st.retentionEvents, formatCount), 'retention-events'],
      ['Time-index granularity', formatDuration(st.indexGranularity, 'server default'), 'index-granularity'],
    ]),
    h('p', { class: 'note' }, 'Events go, oldest first, once any retention limit is exceeded.'));
}

function cursorsCard(cursors, t) {
  return h('section', { class: 'card flush' },
    h('h2', { class: 'pad' }, 'Cursors ', h('span', { class: 'count' }, String(cursors.length))),
    table('cursors-table',
      ['Consumer', [{ class: 'num' }, 'Offset'], [{ class: 'num' }, 'Lag'], 'Committed'],
      cursors.map((c) => h('tr', { testid: 'cursor-row', 'data-consumer': c.consumer },
        h('td', null, h('code', null, c.consumer)),
        h('td', { class: 'num', testid: 'cursor-offset' }, formatCount(c.offset)),
        lagCell(c.lag, t.eventCount, 'cursor-lag'),
        h('td', null, when(c.updatedUnixNanos)))),
      'No consumer has committed a cursor on this topic.'));
}

function groupSettings(g) {
  const st = g.settings || {};
  const created = nanosToMillis(g.createdUnixNanos);
  const parts = [`ack wait ${formatDuration(st.ackWait, 'default')}`, `max deliveries ${st.maxDeliveries || 'default'}`];
  if (created) parts.unshift(`created ${formatAgo(created)}`);
  if (st.orderedByKey) parts.push('ordered by key');
  if (st.deadLetterTopic) parts.push(`dead letters → ${st.deadLetterTopic}`);
  return parts.join(' · ');
}

function groupsCard(groups, t) {
  return h('section', { class: 'card flush' },
    h('h2', { class: 'pad' }, 'Consumer groups ', h('span', { class: 'count' }, String(groups.length))),
    table('groups-table',
      ['Group', [{ class: 'num' }, 'Lag'],
        [{ class: 'num', title: 'every event below it is acked or dead-lettered' }, 'Ack floor'],
        [{ class: 'num', title: 'the next offset the group has never delivered' }, 'Dispatched'],
        [{ class: 'num' }, 'In flight'], [{ class: 'num' }, 'Members'], [{ class: 'num' }, 'Redelivered'],
        [{ class: 'num' }, 'Dead'], [{ class: 'num', title: 'events retention deleted before the group acked them' }, 'Lost']],
      groups.map((g) => h('tr', { testid: 'group-row', 'data-group': g.name },
        h('td', { class: 'group-cell' }, h('code', null, g.name), h('div', { class: 'sub' }, groupSettings(g))),
        lagCell(g.lag, t.eventCount, 'group-lag'),
        h('td', { class: 'num' }, formatCount(g.ackFloor)),
        h('td', { class: 'num' }, formatCount(g.dispatchedTo)),
        h('td', { class: 'num' }, formatCount(g.inFlight)),
        h('td', { class: 'num' }, formatCount(g.members)),
        h('td', { class: 'num' }, formatCount(g.redeliveries)),
        h('td', { class: 'num' }, formatCount(g.deadLettered)),
        h('td', { class: 'num' }, formatCount(g.lostToRetention)))),
      'No consumer group reads this topic.'));
}

export function mount(root, { params, signal }) {
  const [name] = params;
  const base = `#/topics/${encodeURIComponent(name)}`;
  document.title = `${name} · Goethe`;
  const head = pageHead(name, 'Topic',
    linkButton(`${base}/events`, 'Browse events', 'open-events', true),
    linkButton(`${base}/tail`, 'Live tail', 'open-tail'));
  const error = errorBox();
  const body = h('div', { class: 'stack' }, h('p', { class: 'muted' }, 'Loading…'));
  replace(root, crumbs(['Topics', '#/topics'], [name]), head, error, body);

  poll(async () => {
    let t;
    let cursors;
    let groups;
    try {
      [{ topic: t }, { cursors }, { groups }] = await Promise.all([
        api(topicPath(name), { signal }),
        api(topicPath(name, '/cursors'), { signal }),
        api(topicPath(name, '/groups'), { signal }),
      ]);
      showError(error, null);
    } catch (e) {
      if (!isAbort(e)) showError(error, e);
      return;
    }
    if (signal.aborted) return;
    replace(body,
      h('div', { class: 'grid two' }, extentCard(t), settingsCard(t)),
      cursorsCard(cursors || [], t),
      groupsCard(groups || [], t));
  }, POLL_MS, signal);
}
