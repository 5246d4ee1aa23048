import { describe, expect, it } from 'vitest';
import { localTime, sentMessage } from './notify.js';

describe('localTime', () => {
  it('shows times in the people’s time zone, across the date line of UTC', () => {
    expect(localTime(new Date('2026-11-21T16:30:00Z'), 'Asia/Shanghai')).toEqual({
      minute: '2026-11-22 00:30',
      date: '2026-11-22',
    });
    expect(localTime(new Date('2026-11-21T16:30:00Z'), 'UTC')).toEqual({
      minute: '2026-11-21 16:30',
      date: '2026-11-21',
    });
  });
});

describe('sentMessage', () => {
  it("keeps a provider's id a receipt can name, and nothing else", () => {
    expect(sentMessage('2433:1045710669157053657')).toEqual({ messageId: '2433:1045710669157053657' });
    expect(sentMessage(12345)).toEqual({ messageId: '12345' });
    // A number beyond 2^53 has lost digits already: no id rather than a wrong one.
    expect(sentMessage(2 ** 60)).toEqual({});
    for (const bad of [undefined, null, '', 'with space', 'x'.repeat(129), {}, 1.5])
      expect(sentMessage(bad)).toEqual({});
  });
});
