import { describe, expect, it } from 'vitest';
import { localTime } from './notify.js';

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
