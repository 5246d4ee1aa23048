import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { carrier } from '../../test/harness';
import { formatDateTime } from '../services/format';
import { setLang } from '../services/i18n-core';
import { RideLine } from './RideLine';

const boardedAt = '2026-11-19T08:05:00.000Z';
const time = formatDateTime(boardedAt);

describe('ride line', () => {
  it('names the kind, plate, route and boarding time', () => {
    render(<RideLine ride={{ carrier, boardedAt }} />);
    expect(screen.getByText(`公交 粤B12345 36路 · ${time}`).className).toBe('hint');
  });

  it('shows no route when the carrier has none', () => {
    render(<RideLine ride={{ carrier: { ...carrier, kind: 'taxi', route: null }, boardedAt }} />);
    const line = screen.getByText(/^出租车 粤B12345/).textContent ?? '';
    expect(line).not.toContain('null');
    expect(line.endsWith(`· ${time}`)).toBe(true);
  });

  it('in English too', () => {
    setLang('en');
    render(<RideLine ride={{ carrier: { ...carrier, kind: 'metro' }, boardedAt }} />);
    expect(screen.getByText(`Metro 粤B12345 36路 · ${time}`)).toBeTruthy();
  });
});
