// The server: version, backend, uptime, store size, and throughput. GET /v1/server answers
// counters since the server started; the rates are their growth between polls (every 2 s).
// The cluster's members, leader and epoch come from GET /v1/cluster.

import { api, isAbort, poll } from '../api.js';
import { facts, h, replace, table } from '../dom.js';
import { formatAgo, formatBytes, formatCount, formatRate, formatSeconds, formatTime, nanosToMillis } from '../format.js';
import { RateHistory, sparkline } from '../sparkline.js';
import { errorBox, pageHead, showError } from '../ui.js';

const POLL_MS = 2000;

const STATES = {
  MEMBER_STATE_UNSPECIFIED: ['unknown', 'muted'],
  MEMBER_STATE_STARTING: ['starting', 'warn'],
  MEMBER_STATE_CATCHING_UP: ['catching up', 'warn'],
  MEMBER_STATE_IN_SYNC: ['in sync', 'ok'],
  MEMBER_STATE_LEADER: ['leader', 'ok'],
  MEMBER_STATE_STOPPING: ['stopping', 'bad'],
};

function tile(label, value, testid, sub) {
  return h('div', { class: 'tile' },
    h('div', { class: 'tile-label' }, label),
    h('div', { class: 'tile-value', testid }, value),
    sub ? h('div', { class: 'tile-sub' }, sub) : null);
}

function rateRow(label, events, bytes, totalEvents, totalBytes, id) {
  const now = (history, unit) => {
    const r = history.latest();
    return r === null ? '…' : formatRate(r, unit);
  };
  const cell = (history, unit, testid, what) => h('td', { class: 'num' },
    h('div', { class: 'rate-box end' },
      sparkline(history.rates(), { width: 160, label: `${label}: ${what} per second` }),
      h('span', { class: 'rate-value', testid }, now(history, unit))));
  return h('tr', null,
    h('th', { scope: 'row' }, label),
    cell(events, 'ev', `rate-${id}-events`, 'events'),
    cell(bytes, 'B', `rate-${id}-bytes`, 'bytes'),
    h('td', { class: 'num' }, formatCount(totalEvents)),
    h('td', { class: 'num' }, formatBytes(totalBytes)));
}

function clusterCard(c) {
  if (!c.clustered) {
    return h('section', { class: 'card', testid: 'cluster' },
      h('h2', null, 'Cluster'),
      h('p', { class: 'muted', testid: 'cluster-mode' }, `Single node (no cluster configured): ${c.node}.`));
  }
  return h('section', { class: 'card flush', testid: 'cluster' },
    h('div', { class: 'pad' },
      h('h2', null, 'Cluster ', h('code', null, c.cluster)),
      c.coordinatorReachable ? null
        : h('p', { class: 'message error' }, `${c.node} cannot reach etcd: what follows is what it knew last.`),
      facts('cluster-facts', [
        ['Answering node', c.node],
        ['Leader', c.leader ? `${c.leader} (${c.leaderAddress})` : h('span', { class: 'warn-text' }, 'none: an election is under way'), 'cluster-leader'],
        ['Epoch', formatCount(c.epoch), 'cluster-epoch'],
      ])),
    table('members-table',
      ['Member', 'Address', 'Version', 'State', [{ class: 'num' }, 'Applied'], [{ class: 'num' }, 'Behind leader'], 'Updated'],
      (c.members || []).map((m) => {
        const [text, tone] = STATES[m.state] || [m.state, 'muted'];
        const ms = nanosToMillis(m.updatedUnixNanos);
        return h('tr', { testid: 'member-row', 'data-member': m.name },
          h('td', null, h('code', null, m.name)),
          h('td', null, m.address),
          h('td', null, m.version),
          h('td', null, h('span', { class: ['pill', tone] }, text)),
          h('td', { class: 'num' }, formatCount(m.applied)),
          h('td', { class: 'num' }, formatCount(m.behindLeader)),
          h('td', null, ms ? formatAgo(ms) : '–'));
      })));
}

export function mount(root, { signal }) {
  document.title = 'Server · Goethe';
  const error = errorBox();
  const body = h('div', { class: 'stack' }, h('p', { class: 'muted' }, 'Loading…'));
  const head = h('div');
  replace(head, pageHead('Server', ''));
  replace(root, head, error, body);
  const rates = {
    appendedEvents: new RateHistory(60), appendedBytes: new RateHistory(60),
    deliveredEvents: new RateHistory(60), deliveredBytes: new RateHistory(60),
  };

  poll(async () => {
    let info;
    let cluster;
    try {
      [info, cluster] = await Promise.all([api('/v1/server', { signal }), api('/v1/cluster', { signal })]);
      showError(error, null);
    } catch (e) {
      if (!isAbort(e)) showError(error, e);
      return;
    }
    if (signal.aborted) return;
    const at = performance.now();
    rates.appendedEvents.add(Number(info.eventsAppended), at);
    rates.appendedBytes.add(Number(info.bytesAppended), at);
    rates.deliveredEvents.add(Number(info.eventsDelivered), at);
    rates.deliveredBytes.add(Number(info.bytesDelivered), at);
    const started = nanosToMillis(info.startedUnixNanos);
    replace(head, pageHead('Server', `${info.node} · refreshed every ${POLL_MS / 1000} s`));
    replace(body,
      h('div', { class: 'tiles' },
        tile('Version', info.version, 'server-version'),
        tile('Backend', info.backend, 'server-backend'),
        tile('Sync', info.sync ? 'on' : 'off', 'server-sync', info.sync ? 'fsync per commit' : 'no fsync: a machine crash can lose acknowledged events'),
        tile('Uptime', started ? formatSeconds((Date.now() - started) / 1000) : '–', 'server-uptime',
          started ? `since ${formatTime(started, { millis: false })}` : null),
        tile('Store size', formatBytes(info.storeBytes), 'server-store', `${formatCount(info.storeBytes)} bytes on disk`),
        tile('Topics', formatCount(info.topics), 'server-topics'),
        tile('Open streams', formatCount(info.openStreams), 'server-streams', 'Consume and ProduceStream'),
        tile('Node', info.node, 'server-node')),
      h('section', { class: 'card flush' },
        h('h2', { class: 'pad' }, 'Throughput ', h('span', { class: 'muted small' }, 'since this page opened; totals since the server started')),
        h('div', { class: 'table-wrap' }, h('table', { testid: 'rates-table' },
          h('thead', null, h('tr', null,
            h('th', null, ''), h('th', { class: 'num' }, 'Events per second'), h('th', { class: 'num' }, 'Bytes per second'),
            h('th', { class: 'num' }, 'Events in all'), h('th', { class: 'num' }, 'Bytes in all'))),
          h('tbody', null,
            rateRow('Appended', rates.appendedEvents, rates.appendedBytes, info.eventsAppended, info.bytesAppended, 'appended'),
            rateRow('Delivered', rates.deliveredEvents, rates.deliveredBytes, info.eventsDelivered, info.bytesDelivered, 'delivered'))))),
      clusterCard(cluster));
  }, POLL_MS, signal);
}
