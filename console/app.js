// The console's entry point: a hash router (#/topics, #/topics/<t>, #/topics/<t>/events?from=…,
// #/topics/<t>/tail, #/server) that mounts one page at a time. Each page gets an AbortSignal
// that fires when it is left, which stops its polling, requests and live streams.

import { initAuth } from './auth.js';
import { h, replace } from './dom.js';
import * as topics from './pages/topics.js';
import * as topic from './pages/topic.js';
import * as events from './pages/events.js';
import * as tail from './pages/tail.js';
import * as server from './pages/server.js';

const routes = [
  { pattern: /^\/topics$/, page: topics, nav: 'topics' },
  { pattern: /^\/topics\/([^/]+)$/, page: topic, nav: 'topics' },
  { pattern: /^\/topics\/([^/]+)\/events$/, page: events, nav: 'topics' },
  { pattern: /^\/topics\/([^/]+)\/tail$/, page: tail, nav: 'topics' },
  { pattern: /^\/server$/, page: server, nav: 'server' },
];

let leave = null; // aborts the mounted page

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/topics';
  const q = raw.indexOf('?');
  const path = (q < 0 ? raw : raw.slice(0, q)).replace(/\/+$/, '') || '/topics';
  return { path, query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

function render() {
  if (leave) leave.abort();
  leave = new AbortController();
  const view = document.getElementById('view');
  const { path, query } = parseHash();
  window.scrollTo(0, 0);
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.remove('active');
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    const params = match.slice(1).map(decodeURIComponent);
    document.querySelector(`[data-nav="${route.nav}"]`)?.classList.add('active');
    replace(view);
    route.page.mount(view, { params, query, signal: leave.signal });
    return;
  }
  replace(view,
    h('div', { class: 'page-head' }, h('h1', { testid: 'page-title' }, 'No such page')),
    h('p', null, 'Nothing lives at ', h('code', null, path), '. ', h('a', { href: '#/topics' }, 'Back to the topics'), '.'));
}

if (!location.hash) history.replaceState(null, '', '#/topics');
initAuth(render);
window.addEventListener('hashchange', render);
render();
