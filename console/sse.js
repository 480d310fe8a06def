// Reads a Server-Sent Events stream from a fetch() Response. EventSource cannot send an
// Authorization header, so the console reads the stream itself: lines of "field: value", a blank
// line ending each event (https://html.spec.whatwg.org/multipage/server-sent-events.html).

/** Calls onEvent({id, event, data}) for each event until the stream ends (resolves) or fails. */
export async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let pending = { id: null, event: 'message', data: [] };
  const line = (text) => {
    if (text === '') {
      if (pending.data.length) onEvent({ id: pending.id, event: pending.event, data: pending.data.join('\n') });
      pending = { id: pending.id, event: 'message', data: [] };
      return;
    }
    if (text.startsWith(':')) return; // a comment (keep-alive)
    const colon = text.indexOf(':');
    const name = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'data') pending.data.push(value);
    else if (name === 'event') pending.event = value;
    else if (name === 'id') pending.id = value;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        line(buffer.slice(0, nl).replace(/\r$/, ''));
        buffer = buffer.slice(nl + 1);
      }
    }
  } finally {
    reader.releaseLock();
  }
}
