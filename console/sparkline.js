// A small inline SVG line of recent rates. Drawn with SVG attributes and CSS classes only: the
// server's Content-Security-Policy allows no inline styles.

import { s } from './dom.js';

/** `values` oldest first; `label` becomes the tooltip. */
export function sparkline(values, { width = 120, height = 28, label = '' } = {}) {
  const svg = s('svg', {
    class: 'sparkline', width, height, viewBox: `0 0 ${width} ${height}`,
    role: 'img', 'aria-label': label, testid: 'sparkline',
  });
  if (label) svg.append(s('title', null, label));
  const pad = 2;
  const baseline = height - pad;
  if (values.length < 2) {
    svg.append(s('line', { class: 'spark-base', x1: 0, y1: baseline, x2: width, y2: baseline }));
    return svg;
  }
  const max = Math.max(...values, 0) * 1.15; // headroom: a steady rate is not drawn on the top edge
  const step = width / (values.length - 1);
  const points = values.map((v, i) => {
    const x = i * step;
    const y = max > 0 ? baseline - (v / max) * (height - 2 * pad) : baseline;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  });
  const line = points.map(([x, y]) => `${x},${y}`).join(' ');
  svg.append(
    s('polygon', { class: 'spark-area', points: `0,${height} ${line} ${width},${height}` }),
    s('polyline', { class: 'spark-line', points: line }),
    s('circle', { class: 'spark-dot', cx: points.at(-1)[0], cy: points.at(-1)[1], r: 2 }),
  );
  return svg;
}

/** A thin horizontal bar for a share (0..1) such as a lag against the retained events. */
export function bar(share, { width = 64, height = 6, label = '' } = {}) {
  const part = Math.max(0, Math.min(1, share || 0));
  const svg = s('svg', { class: 'bar', width, height, viewBox: `0 0 ${width} ${height}`, 'aria-hidden': 'true' });
  if (label) svg.append(s('title', null, label));
  svg.append(
    s('rect', { class: 'bar-track', x: 0, y: 0, width, height, rx: height / 2 }),
    s('rect', { class: 'bar-fill', x: 0, y: 0, width: Math.max(part > 0 ? height : 0, part * width), height, rx: height / 2 }),
  );
  return svg;
}

/**
 * Rates from polled counters: feed it the counter's samples; it keeps the last `keep` and answers
 * the per-second rate between consecutive ones.
 */
export class RateHistory {
  constructor(keep = 40) {
    this.keep = keep;
    this.samples = [];
  }

  add(value, at = performance.now()) {
    const last = this.samples.at(-1);
    // A counter that went back (a server restart) starts the history over.
    if (last && value < last.value) this.samples = [];
    this.samples.push({ value, at });
    if (this.samples.length > this.keep + 1) this.samples.shift();
  }

  rates() {
    const out = [];
    for (let i = 1; i < this.samples.length; i += 1) {
      const a = this.samples[i - 1];
      const b = this.samples[i];
      const seconds = (b.at - a.at) / 1000;
      out.push(seconds > 0 ? (b.value - a.value) / seconds : 0);
    }
    return out;
  }

  latest() {
    const rates = this.rates();
    return rates.length ? rates.at(-1) : null;
  }
}
