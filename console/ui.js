// Pieces every page uses: its heading, breadcrumbs, and how an API error is shown.

import { h } from './dom.js';

export function crumbs(...items) {
  return h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumbs' },
    items.map(([label, href], i) => [
      i ? h('span', { class: 'sep' }, '/') : null,
      href ? h('a', { href }, label) : h('span', null, label),
    ]));
}

export function pageHead(title, subtitle, ...actions) {
  return h('div', { class: 'page-head' },
    h('div', null,
      h('h1', { testid: 'page-title' }, title),
      subtitle ? h('p', { class: 'muted subtitle', testid: 'page-subtitle' }, subtitle) : null),
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

/** A sentence for an API error: what the server said, and what it means here. */
export function errorText(error) {
  if (!error) return '';
  switch (error.code) {
    case 'PERMISSION_DENIED':
      return `This token may not do that: ${error.message}`;
    case 'NOT_FOUND':
      return `Not found: ${error.message}`;
    case 'UNAVAILABLE':
      return `The server is unavailable: ${error.message}`;
    default:
      return error.code ? `${error.code}: ${error.message}` : String(error.message || error);
  }
}

/** The message box for an error (or an empty, hidden one to fill later). */
export function errorBox(error) {
  return h('div', { class: 'message error', testid: 'error', role: 'alert', hidden: !error }, errorText(error));
}

export function showError(box, error) {
  box.textContent = errorText(error);
  box.hidden = !error;
}

export function linkButton(href, label, testid, primary = false) {
  return h('a', { class: ['button', primary && 'primary'], href, testid }, label);
}
