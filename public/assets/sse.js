// A small Server-Sent Events reader for fetch() responses. EventSource cannot send an
// Authorization header, so the page reads the text/event-stream body itself.

/**
 * Parses the event-stream format (WHATWG HTML, "Server-sent events"): `event:`, `data:` (joined
 * with newlines), `id:`, comment lines starting with `:`, events ended by a blank line.
 * Returns `{ push(text), end() }`; `onEvent({ event, data, id })` gets each complete event.
 */
export function createSseParser(onEvent) {
  let buffer = '';
  let event = '';
  let data = [];
  let id = '';
  const dispatch = () => {
    if (data.length) onEvent({ event: event || 'message', data: data.join('\n'), id });
    event = '';
    data = [];
  };
  const line = (text) => {
    if (text === '') return dispatch();
    if (text.startsWith(':')) return undefined; // a comment (keepalive)
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
    return undefined;
  };
  return {
    push(text) {
      buffer += text;
      // A trailing \r may be the first half of \r\n: keep it until the next chunk.
      for (let m; (m = /\r\n|\n|\r(?=[^\n])/.exec(buffer)); ) {
        line(buffer.slice(0, m.index));
        buffer = buffer.slice(m.index + m[0].length);
      }
    },
    end() {
      if (buffer.endsWith('\r')) buffer = buffer.slice(0, -1);
      if (buffer) line(buffer);
      buffer = '';
      // An event not ended by a blank line is dropped, as the spec says.
      event = '';
      data = [];
    },
  };
}

/** Reads a fetch() Response body as an event stream until it ends; `onEvent` may throw to stop. */
export async function readEventStream(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parser = createSseParser(onEvent);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(decoder.decode(value, { stream: true }));
    }
    parser.push(decoder.decode());
    parser.end();
  } finally {
    reader.cancel().catch(() => {});
  }
}
