/** One Server-Sent Events message: an event with its data, or a comment line (a keepalive). */
export type SseMessage = { event: string; data: string; id?: string } | { comment: string };

/**
 * Parses a `text/event-stream` body into messages, as they arrive. Multi-line `data:` fields are
 * joined with newlines; an event without `event:` is `message`, as in browsers' EventSource.
 */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      yield* parseBlock(block);
    }
  }
}

function* parseBlock(block: string): Generator<SseMessage> {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      yield { comment: line.slice(1).trim() };
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (data.length) yield id === undefined ? { event, data: data.join('\n') } : { event, data: data.join('\n'), id };
}
