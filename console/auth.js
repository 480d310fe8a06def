// The bearer token: asked for once (a form on the page, when an API call gets 401), kept in
// sessionStorage so it lasts for this tab's session and no longer, and forgotten on request.

const KEY = 'goethe.token';
const section = () => document.getElementById('auth');
const view = () => document.getElementById('view');

let waiting = null; // {promise, resolve}: one prompt shared by every request that got 401

export function currentToken() {
  try {
    return sessionStorage.getItem(KEY) || '';
  } catch {
    return ''; // storage disabled: the token then lives only as long as this page
  }
}

function store(token) {
  try {
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
  } catch { /* see currentToken */ }
  showState();
}

/** Drops the token; `onForget` (the router) reloads the page so it asks again if it must. */
export function forgetToken() {
  store('');
}

/**
 * Shows the token form (with `message`, e.g. why the last token was refused) and resolves with
 * the token the user enters. Requests that get 401 while the form is up share the same answer.
 */
export function askForToken(message) {
  const msg = document.getElementById('token-message');
  if (message) {
    msg.textContent = message;
    msg.hidden = false;
  } else if (!waiting) {
    msg.hidden = true;
  }
  if (waiting) return waiting.promise;
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  waiting = { promise, resolve };
  section().hidden = false;
  view().hidden = true;
  const input = document.getElementById('token-input');
  input.value = '';
  input.focus();
  return promise;
}

/** The refused token is dropped at once, so that a reload does not send it again. */
export function refuseToken(token) {
  if (currentToken() === token) store('');
}

function submitted(event) {
  event.preventDefault();
  const token = document.getElementById('token-input').value.trim();
  if (!token || !waiting) return;
  store(token);
  section().hidden = true;
  view().hidden = false;
  const { resolve } = waiting;
  waiting = null;
  resolve(token);
}

function showState() {
  const has = currentToken() !== '';
  document.getElementById('token-label').textContent = has ? 'Token set' : 'No token';
  document.getElementById('token-label').classList.toggle('on', has);
  document.getElementById('forget-token').hidden = !has;
}

export function initAuth(onForget) {
  document.getElementById('token-form').addEventListener('submit', submitted);
  document.getElementById('forget-token').addEventListener('click', () => {
    forgetToken();
    onForget();
  });
  showState();
}
