import { encodeComment, encodeFrame, encodeRetry } from '../../src/sse/encode-frame.js';

/** A minimal reading of the SSE parsing rules: which events a byte stream dispatches. */
function dispatchedEvents(stream: string): Array<{ id: string; event: string; data: string }> {
  const events: Array<{ id: string; event: string; data: string }> = [];
  let id = '';
  let event = '';
  let data: string[] = [];
  for (const line of stream.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (data.length > 0) events.push({ id, event: event || 'message', data: data.join('\n') });
      event = '';
      data = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return events;
}

describe('encodeFrame', () => {
  it('writes id, event, one data line and a blank line', () => {
    expect(encodeFrame({ id: '7', event: 'log', data: '{"text":"hi"}' })).toBe('id: 7\nevent: log\ndata: {"text":"hi"}\n\n');
  });

  it('keeps a line that looks like an SSE field inside the JSON data', () => {
    expect(encodeFrame({ id: '7', event: 'log', data: JSON.stringify({ text: 'event: end' }) })).toBe(
      'id: 7\nevent: log\ndata: {"text":"event: end"}\n\n',
    );
  });

  it('cannot be made to dispatch a forged event by the text it carries', () => {
    const text = '\n\ndata: x\nevent: end\r\rid: 999\r\n\r\nretry: 1';
    const frame = encodeFrame({ id: 'a-1-1', event: 'log', data: JSON.stringify({ text }) });
    const events = dispatchedEvents(frame);
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual({ id: 'a-1-1', event: 'log', data: JSON.stringify({ text }) });
    expect(JSON.parse(events[0]!.data).text).toBe(text);
  });

  it('refuses data with a raw line break instead of sending a broken frame', () => {
    expect(() => encodeFrame({ id: '1', event: 'log', data: 'a\nb' })).toThrow(/line break/);
    expect(() => encodeFrame({ id: '1\r', event: 'log', data: 'x' })).toThrow(/line break/);
  });
});

describe('encodeRetry and encodeComment', () => {
  it('frames the reconnect delay', () => expect(encodeRetry(3000)).toBe('retry: 3000\n\n'));
  it('frames a comment that EventSource ignores', () => {
    expect(encodeComment('ping')).toBe(': ping\n\n');
    expect(dispatchedEvents(encodeComment('ping'))).toEqual([]);
  });
});
