// Building elements from data. Everything goes through createElement and text nodes, never
// innerHTML, so payloads, keys and names from the server cannot inject markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, props) {
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (name === 'testid') {
      el.setAttribute('data-testid', value);
    } else if (name === 'value' && 'value' in el) {
      el.value = value;
    } else if (name === 'checked' || name === 'disabled' || name === 'selected' || name === 'hidden') {
      el[name] = Boolean(value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element: h('td', {class: 'num'}, 'text', otherElement). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  apply(el, props);
  append(el, children);
  return el;
}

/** An SVG element (attributes, not styles, so the CSP's style-src stays strict). */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, props);
  append(el, children);
  return el;
}

/** Replaces everything inside `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A table from column headers and rows of cells (each cell a node, text, or [props, ...children]). */
export function table(testid, headers, rows, empty = 'Nothing here yet.') {
  const head = h('thead', null, h('tr', null, headers.map((c) =>
    typeof c === 'string' ? h('th', null, c) : h('th', c[0], c.slice(1)))));
  const body = h('tbody', null, rows.length === 0
    ? h('tr', null, h('td', { class: 'empty', colspan: headers.length }, empty))
    : rows);
  return h('div', { class: 'table-wrap' }, h('table', { testid }, head, body));
}

/** A label/value list for a card. */
export function facts(testid, pairs) {
  return h('dl', { class: 'facts', testid },
    pairs.filter(Boolean).map(([label, value, id]) => [
      h('dt', null, label),
      h('dd', id ? { testid: id } : null, value),
    ]));
}
