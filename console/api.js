// Calls to the server's JSON API (docs/http.md): relative URLs only, so the console works over
// whatever scheme and host served it (HTTPS included), and the bearer token on every call.

import { askForToken, currentToken, refuseToken } from './auth.js';

/** An error answer: the HTTP status and the server's {code, message}. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function isAbort(error) {
  return error && error.name === 'AbortError';
}

async function errorOf(response) {
  let code = `HTTP ${response.status}`;
  let message = response.statusText || code;
  try {
    const body = await response.json();
    if (body && body.code) code = body.code;
    if (body && body.message) message = body.message;
  } catch { /* not JSON: keep the status */ }
  return new ApiError(response.status, code, message);
}

/** `path` with `query`'s entries (undefined and '' skipped) percent-encoded. */
export function withQuery(path, query) {
  const parts = [];
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === '') continue;
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  }
  return parts.length ? `${path}?${parts.join('&')}` : path;
}

export function topicPath(topic, rest = '') {
  return `/v1/topics/${encodeURIComponent(topic)}${rest}`;
}

/**
 * Calls `path`. A 401 shows the token form (saying why the last token was refused, when one was
 * sent) and retries with the new token. Resolves with the JSON answer, or the Response itself
 * with `raw` (for the live tail's stream); rejects with an ApiError.
 */
export async function api(path, { method = 'GET', body, signal, raw = false } = {}) {
  for (;;) {
    const sent = currentToken();
    const headers = { Accept: raw ? 'text/event-stream' : 'application/json' };
    if (sent) headers.Authorization = `Bearer ${sent}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        cache: 'no-store',
      });
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new ApiError(0, 'UNAVAILABLE', `Cannot reach the server (${error.message}).`);
    }
    if (response.status === 401) {
      const refusal = await errorOf(response);
      if (currentToken() === sent) {
        // Another request may have got a new token meanwhile; otherwise ask (again).
        refuseToken(sent);
        await askForToken(sent ? `The server refused this token: ${refusal.message}` : '');
      }
      if (signal && signal.aborted) throw new DOMException('left the page', 'AbortError');
      continue;
    }
    if (!response.ok) throw await errorOf(response);
    return raw ? response : response.json();
  }
}

/** Runs `fn` now and `ms` after each run ends, until `signal` aborts. */
export function poll(fn, ms, signal) {
  let timer = 0;
  const tick = async () => {
    try {
      await fn();
    } catch (error) {
      if (!isAbort(error)) console.warn(error); // fn shows its own errors
    }
    if (!signal.aborted) timer = setTimeout(tick, ms);
  };
  signal.addEventListener('abort', () => clearTimeout(timer));
  tick();
}
