// Payloads, keys and header values are bytes (base64 in the API). These decide how to show them:
// JSON pretty-printed, UTF-8 text, or a hex dump, and turn filter inputs back into bytes.

const MAX_TEXT = 64 * 1024; // characters of text or JSON shown before "… more"
const MAX_HEX = 4 * 1024; // bytes of a hex dump shown

export function fromBase64(b64) {
  const binary = atob(b64 || '');
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 1) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

/** The bytes as UTF-8 text, or null when they are not valid UTF-8. */
export function strictUtf8(bytes) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** "ff 00 10". */
export function hexInline(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** A classic dump: offset, 16 bytes in hex, and their printable ASCII. */
export function hexDump(bytes) {
  const shown = bytes.subarray(0, MAX_HEX);
  const lines = [];
  for (let at = 0; at < shown.length; at += 16) {
    const row = shown.subarray(at, at + 16);
    const hex = hexInline(row).padEnd(16 * 3 - 1, ' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(8, '0')}  ${hex}  |${ascii}|`);
  }
  return lines.join('\n');
}

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** A key or header value as text when it is printable UTF-8, else as hex. */
export function smallValue(bytes) {
  const text = strictUtf8(bytes);
  if (text !== null && !CONTROL.test(text) && !/[\n\r\t]/.test(text)) return { text, hex: false };
  return { text: hexInline(bytes), hex: true };
}

/**
 * Re-indents JSON text without parsing its numbers (JSON.parse would round 64-bit integers), as
 * segments {cls, text} so the view can colour keys, strings, numbers and literals.
 */
export function prettyJson(text) {
  const out = [];
  let indent = 0;
  let i = 0;
  const push = (cls, t) => out.push({ cls, text: t });
  const newline = () => push('', `\n${'  '.repeat(indent)}`);
  const nextSignificant = (from) => {
    let j = from;
    while (j < text.length && /\s/.test(text[j])) j += 1;
    return text[j];
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const str = text.slice(i, j + 1);
      push(nextSignificant(j + 1) === ':' ? 'j-key' : 'j-str', str);
      i = j + 1;
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      if (nextSignificant(i + 1) === close) {
        push('j-punct', c + close);
        i = text.indexOf(close, i + 1) + 1;
      } else {
        push('j-punct', c);
        indent += 1;
        newline();
        i += 1;
      }
    } else if (c === '}' || c === ']') {
      indent -= 1;
      newline();
      push('j-punct', c);
      i += 1;
    } else if (c === ',') {
      push('j-punct', ',');
      newline();
      i += 1;
    } else if (c === ':') {
      push('j-punct', ': ');
      i += 1;
    } else if (/\s/.test(c)) {
      i += 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s,\]}:]/.test(text[j])) j += 1;
      const word = text.slice(i, j);
      push(/^-?\d/.test(word) ? 'j-num' : 'j-lit', word);
      i = j;
    }
  }
  return out;
}

function parsesAsJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * How to show a payload in `mode` (auto, json, text, hex): {kind, text | segments, note}.
 * auto: JSON (an object or array) pretty-printed, else UTF-8 text, else hex.
 */
export function renderPayload(bytes, mode) {
  const text = strictUtf8(bytes);
  const hex = (note) => ({ kind: 'hex', text: hexDump(bytes), note: truncated(bytes.length, MAX_HEX, note) });
  const asText = (note) => ({ kind: 'text', text: text.slice(0, MAX_TEXT), note: truncated(text.length, MAX_TEXT, note) });
  if (bytes.length === 0) return { kind: 'empty', text: '', note: 'empty payload' };
  if (mode === 'hex') return hex();
  if (mode === 'text') {
    if (text !== null) return asText();
    const lossy = new TextDecoder('utf-8').decode(bytes);
    return { kind: 'text', text: lossy.slice(0, MAX_TEXT), note: 'not valid UTF-8: invalid bytes shown as \uFFFD' };
  }
  if (text !== null && text.length <= 4 * MAX_TEXT) {
    const value = parsesAsJson(text);
    const structured = value !== null && typeof value === 'object';
    if (value !== undefined && (structured || mode === 'json')) {
      return { kind: 'json', segments: prettyJson(text.trim()), note: '' };
    }
  }
  if (mode === 'json') {
    return text !== null ? asText('not JSON: shown as text') : hex('not JSON: shown as hex');
  }
  return text !== null ? asText() : hex();
}

function truncated(length, max, note = '') {
  if (length <= max) return note;
  const more = `showing the first ${max.toLocaleString('en-US')} of ${length.toLocaleString('en-US')}`;
  return note ? `${note}; ${more}` : more;
}

/** A filter input as bytes: "0x" followed by hex digits is hex, anything else UTF-8 text. */
export function inputBytes(value) {
  const hex = /^0x((?:[0-9a-fA-F]{2})+)$/.exec(value);
  if (hex) return Uint8Array.from(hex[1].match(/../g), (pair) => parseInt(pair, 16));
  return new TextEncoder().encode(value);
}
