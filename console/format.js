// Turning the API's numbers (64-bit values arrive as strings) into text people read.

const count = new Intl.NumberFormat('en-US');

/** 12345 -> "12,345". Accepts the API's decimal strings; BigInt keeps 64-bit values exact. */
export function formatCount(value) {
  if (value === undefined || value === null || value === '') return '–';
  try {
    return count.format(BigInt(value));
  } catch {
    return count.format(Number(value));
  }
}

/** Bytes in binary units: "0 B", "512 B", "1.5 KiB", "20.0 MiB". */
export function formatBytes(value) {
  let n = Number(value || 0);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} B` : `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[unit]}`;
}

/** A rate with a unit per second, one decimal below 10. */
export function formatRate(perSecond, unit) {
  const n = Math.max(0, perSecond || 0);
  if (unit === 'B') return `${formatBytes(Math.round(n))}/s`;
  const text = n >= 10 ? count.format(Math.round(n)) : n.toFixed(1).replace(/\.0$/, '');
  return `${text} ${unit}/s`;
}

/** Nanoseconds since the epoch (a decimal string) -> milliseconds, or null for 0 / absent. */
export function nanosToMillis(nanos) {
  if (!nanos || nanos === '0') return null;
  return Number(BigInt(nanos) / 1000000n);
}

/** Milliseconds since the epoch -> nanoseconds as a decimal string (for seek by time). */
export function millisToNanos(ms) {
  return (BigInt(Math.trunc(ms)) * 1000000n).toString();
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** Local time "2026-12-01 22:08:54.869" (the title attribute carries UTC). */
export function formatTime(ms, { millis = true } = {}) {
  if (ms === null || ms === undefined) return '–';
  const d = new Date(ms);
  const text = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return millis ? `${text}.${pad(d.getMilliseconds(), 3)}` : text;
}

/** A span of seconds: "42 s", "5 min 3 s", "3 h 12 min", "2 d 4 h". */
export function formatSeconds(total) {
  let s = Math.max(0, Math.floor(total));
  if (s < 60) return `${s} s`;
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hr = Math.floor(s / 3600); s -= hr * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return `${d} d ${hr} h`;
  if (hr) return `${hr} h ${m} min`;
  return `${m} min ${s} s`;
}

/** How long ago `ms` was: "just now", "12 s ago", "3 min ago". */
export function formatAgo(ms, now = Date.now()) {
  if (ms === null || ms === undefined) return '';
  const seconds = (now - ms) / 1000;
  if (seconds < 2) return 'just now';
  if (seconds < 0) return 'in the future';
  const words = formatSeconds(seconds).split(' ').slice(0, 2).join(' ');
  return `${words} ago`;
}

/** A protobuf JSON Duration ("86400s", "0.500s") -> seconds; null when unset. */
export function parseDuration(text) {
  if (!text) return null;
  const n = parseFloat(String(text).replace(/s$/, ''));
  return Number.isFinite(n) ? n : null;
}

/** A Duration for people: "1 d", "1 h 30 min", "500 ms"; `none` for unset or zero. */
export function formatDuration(text, none = 'none') {
  const seconds = parseDuration(text);
  if (!seconds) return none;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  const parts = [];
  let s = seconds;
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['min', 60]]) {
    const n = Math.floor(s / size);
    if (n) parts.push(`${n} ${unit}`);
    s -= n * size;
  }
  if (s) parts.push(`${Math.round(s * 1000) / 1000} s`);
  return parts.join(' ');
}

/** An offset range "first – last", or "empty" when first == next. */
export function formatOffsets(first, next) {
  const f = BigInt(first || 0);
  const n = BigInt(next || 0);
  if (n <= f) return 'empty';
  return `${formatCount(f)} – ${formatCount(n - 1n)}`;
}
