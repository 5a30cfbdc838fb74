import { formatEventId, newBootTag, parseEventId } from '../../src/events/event-id.js';

describe('event ids', () => {
  it('round-trips and stays within the contract alphabet and length', () => {
    const boot = newBootTag(Date.UTC(2026, 10, 21));
    const id = formatEventId({ boot, global: 123456789, build: 42 });
    expect(id).toMatch(/^[0-9A-Za-z_-]{1,64}$/);
    expect(parseEventId(id)).toEqual({ boot, global: 123456789, build: 42 });
  });

  it.each(['', 'abc', 'a-1', 'a-1-2-3', 'A-1-2', 'a--1-2', 'a-1.5-2', 'a-x-2', null, undefined, `a-${'9'.repeat(16)}-1`])(
    'reads %j as no id of ours',
    (raw) => expect(parseEventId(raw)).toBeNull(),
  );
});
