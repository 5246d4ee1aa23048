import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { carrier, errorBody, fakeApi } from '../../../test/harness';
import ItineraryPage from './index';

describe('itinerary page', () => {
  it('groups the last 14 days by day and city', async () => {
    const seen = fakeApi({
      'GET /v1/passengers/me/itinerary': {
        status: 200,
        body: {
          days: [
            {
              day: '2026-11-22',
              cities: [
                {
                  city: '深圳',
                  rides: [
                    { id: 'r2', boardedAt: '2026-11-22T10:15:00.000Z', carrier },
                    {
                      id: 'r1',
                      boardedAt: '2026-11-22T08:05:00.000Z',
                      carrier: { ...carrier, plate: '粤B67890', route: null },
                    },
                  ],
                },
              ],
            },
            {
              day: '2026-11-20',
              cities: [
                {
                  city: '广州',
                  rides: [
                    {
                      id: 'r0',
                      boardedAt: '2026-11-20T09:00:00.000Z',
                      carrier: { ...carrier, kind: 'metro', plate: 'GZ-3-017' },
                    },
                  ],
                },
              ],
            },
          ],
        },
      },
    });
    render(<ItineraryPage />);
    const today = await screen.findByLabelText('2026-11-22');
    expect(within(today).getByText('2 次乘车')).toBeTruthy();
    expect(within(today).getByText('深圳')).toBeTruthy();
    expect(within(today).getByText('公交 粤B12345 · 36路')).toBeTruthy();
    expect(within(today).getByText('公交 粤B67890')).toBeTruthy();
    const earlier = screen.getByLabelText('2026-11-20');
    expect(within(earlier).getByText('地铁 GZ-3-017 · 36路')).toBeTruthy();
    expect(seen[1]!.path).toBe('/v1/passengers/me/itinerary');
  });

  it('says when there are no rides', async () => {
    fakeApi({ 'GET /v1/passengers/me/itinerary': { status: 200, body: { days: [] } } });
    render(<ItineraryPage />);
    expect(await screen.findByText('近 14 天没有乘车记录')).toBeTruthy();
  });

  it('shows errors with a retry', async () => {
    fakeApi({ 'GET /v1/passengers/me/itinerary': { status: 503, body: errorBody('service_unavailable') } });
    render(<ItineraryPage />);
    expect((await screen.findByRole('alert')).textContent).toContain('服务暂时不可用');
    expect(screen.getByRole('button', { name: '重试' })).toBeTruthy();
  });
});
