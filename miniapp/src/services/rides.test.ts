import { describe, expect, it, vi } from 'vitest';
import { CODE_URL, errorBody, fakeApi, flush, ride, taro, type FakeRequest } from '../../test/harness';
import {
  flushQueue,
  looksLikeRideCode,
  queuedScans,
  scannedCodeFromParams,
  startQueueWatcher,
  submitScan,
} from './rides';
import type { QueuedScan } from './storage';

const OTHER_CODE = 'HTTP://127.0.0.1:3000/C/BEAQAAAAAEAACAAAAAAAAAAAAAAAAAAA';

function queued(code = CODE_URL, minutesAgo = 3): QueuedScan {
  return {
    code,
    clientRideId: `0000000${minutesAgo}-0000-4000-8000-000000000000`,
    scannedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
  };
}

const rides = (seen: FakeRequest[]) => seen.filter((r) => r.path === '/v1/rides');

describe('scan input', () => {
  it('reads q (URL-encoded by the super-app) or code', () => {
    expect(scannedCodeFromParams({ q: encodeURIComponent(CODE_URL) })).toBe(CODE_URL);
    expect(scannedCodeFromParams({ code: CODE_URL })).toBe(CODE_URL);
    expect(scannedCodeFromParams({ q: '%E0%A4%A' })).toBe('%E0%A4%A');
    expect(scannedCodeFromParams({})).toBeNull();
  });

  it('recognises ride codes like the server does', () => {
    expect(looksLikeRideCode(CODE_URL)).toBe(true);
    expect(looksLikeRideCode(CODE_URL.toLowerCase())).toBe(true);
    expect(looksLikeRideCode('AEAQAAAAAEAACAAAAAAAAAAAAAAAAAAA')).toBe(true);
    expect(looksLikeRideCode('https://example.com/c/short')).toBe(false);
  });
});

describe('offline queue', () => {
  it('queues a scan that finds no network, and a second scan of the same poster is the same ride', async () => {
    fakeApi({ 'POST /v1/rides': 'network' });
    const first = await submitScan(CODE_URL);
    const again = await submitScan(CODE_URL);
    const other = await submitScan(OTHER_CODE);
    expect(first.kind).toBe('queued');
    expect(again).toEqual(first);
    expect(queuedScans()).toHaveLength(2);
    expect(other.kind === 'queued' && other.item.code).toBe(OTHER_CODE);
  });

  it('delivers queued scans with their clientRideId and scannedAt, exactly once even if flushed twice', async () => {
    const item = queued();
    taro.storage.set('rt.queue', [item]);
    const seen = fakeApi({ 'POST /v1/rides': { status: 201, body: { result: 'registered', ride: ride() } } });
    await Promise.all([flushQueue(), flushQueue()]);
    await flushQueue();
    expect(rides(seen)).toHaveLength(1);
    expect(rides(seen)[0]!.data).toEqual({
      code: CODE_URL,
      clientRideId: item.clientRideId,
      scannedAt: item.scannedAt,
    });
    expect(queuedScans()).toEqual([]);
    expect(taro.storage.get('rt.queueReport')).toMatchObject({
      delivered: [{ carrier: { plate: '粤B12345' } }],
    });
  });

  it('a retry after a lost reply sends the same clientRideId (the server answers 200 with the same ride)', async () => {
    taro.storage.set('rt.queue', [queued()]);
    const sent: unknown[] = [];
    let calls = 0;
    fakeApi({
      'POST /v1/rides': (req) => {
        sent.push(req.data!.clientRideId);
        return ++calls === 1 ? 'network' : { status: 200, body: { result: 'registered', ride: ride() } };
      },
    });
    await flushQueue();
    expect(queuedScans()).toHaveLength(1);
    await flushQueue();
    expect(queuedScans()).toHaveLength(0);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toBe(sent[1]);
  });

  it('keeps scans on transient errors, drops refused ones with a report, stops at the first transient one', async () => {
    taro.storage.set('rt.queue', [queued(CODE_URL, 5), queued(OTHER_CODE, 4)]);
    fakeApi({
      'POST /v1/rides': (req) =>
        req.data!.code === CODE_URL
          ? { status: 400, body: errorBody('scan_too_old') }
          : { status: 503, body: errorBody('service_unavailable') },
    });
    await flushQueue();
    expect(queuedScans().map((q) => q.code)).toEqual([OTHER_CODE]);
    expect(taro.storage.get('rt.queueReport')).toMatchObject({
      failed: [{ code: CODE_URL, error: 'scan_too_old' }],
    });
  });

  it('keeps a queued scan answered by a 200 that is not the API (a captive portal page)', async () => {
    taro.storage.set('rt.queue', [queued()]);
    fakeApi({ 'POST /v1/rides': { status: 200, body: '<html>Sign in to the Wi-Fi</html>' } });
    await flushQueue();
    expect(queuedScans()).toHaveLength(1);
    expect(taro.storage.get('rt.pendingPreview')).toBeUndefined();
    expect(taro.storage.get('rt.queueReport')).toBeUndefined();
  });

  it('a queued first scan that needs confirmation leaves a pending preview', async () => {
    taro.storage.set('rt.queue', [queued()]);
    fakeApi({
      'POST /v1/rides': {
        status: 202,
        body: { result: 'confirmation_required', preview: { consentVersion: '2026-11' } },
      },
    });
    await flushQueue();
    expect(queuedScans()).toEqual([]);
    expect(taro.storage.get('rt.pendingPreview')).toEqual({ consentVersion: '2026-11' });
  });

  it('flushes on launch and again when the network comes back', async () => {
    taro.storage.set('rt.queue', [queued()]);
    let online = false;
    const seen = fakeApi({
      'POST /v1/rides': () =>
        online ? { status: 201, body: { result: 'registered', ride: ride() } } : 'network',
    });
    startQueueWatcher();
    await flush();
    expect(rides(seen)).toHaveLength(1);
    expect(queuedScans()).toHaveLength(1);
    expect(taro.onNetworkStatusChange).toHaveBeenCalledTimes(1);
    online = true;
    for (const l of taro.state.networkListeners) l({ isConnected: false, networkType: 'none' });
    await flush();
    expect(rides(seen)).toHaveLength(1);
    for (const l of taro.state.networkListeners) l({ isConnected: true, networkType: 'wifi' });
    await flush();
    await flush();
    expect(rides(seen)).toHaveLength(2);
    expect(queuedScans()).toEqual([]);
  });

  it('while the app is open, retries after a transient failure with growing waits, and stops once delivered', async () => {
    vi.useFakeTimers();
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5); // no jitter: waits of exactly 2 s, 4 s
    try {
      taro.storage.set('rt.queue', [queued()]);
      let calls = 0;
      const seen = fakeApi({
        'POST /v1/rides': () =>
          ++calls <= 2
            ? { status: 503, body: errorBody('service_unavailable') }
            : { status: 201, body: { result: 'registered', ride: ride() } },
      });
      startQueueWatcher();
      await vi.advanceTimersByTimeAsync(0);
      expect(rides(seen)).toHaveLength(1);
      // First retry after 2 s, the second 4 s later.
      await vi.advanceTimersByTimeAsync(1_500);
      expect(rides(seen)).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(rides(seen)).toHaveLength(2);
      expect(queuedScans()).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(3_000);
      expect(rides(seen)).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(2_000);
      expect(rides(seen)).toHaveLength(3);
      expect(queuedScans()).toEqual([]);
      await vi.advanceTimersByTimeAsync(120_000);
      expect(rides(seen)).toHaveLength(3);
    } finally {
      random.mockRestore();
      vi.useRealTimers();
    }
  });

  it('without the watcher (no app lifecycle) a failed flush schedules nothing', async () => {
    vi.useFakeTimers();
    try {
      taro.storage.set('rt.queue', [queued()]);
      const seen = fakeApi({ 'POST /v1/rides': 'network' });
      await flushQueue();
      await vi.advanceTimersByTimeAsync(120_000);
      expect(rides(seen)).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('on h5 also listens to the browser online event', async () => {
    process.env.TARO_ENV = 'h5';
    taro.storage.set('rt.loginCode', 'ok:web');
    fakeApi({ 'POST /v1/rides': 'network' });
    startQueueWatcher();
    await flush();
    taro.storage.set('rt.queue', [queued()]);
    const seen = fakeApi({ 'POST /v1/rides': { status: 201, body: { result: 'registered', ride: ride() } } });
    window.dispatchEvent(new Event('online'));
    await flush();
    await flush();
    expect(rides(seen)).toHaveLength(1);
    expect(queuedScans()).toEqual([]);
  });

  it('a successful scan also sends what was queued before', async () => {
    taro.storage.set('rt.queue', [queued(OTHER_CODE)]);
    const seen = fakeApi({ 'POST /v1/rides': { status: 201, body: { result: 'registered', ride: ride() } } });
    expect((await submitScan(CODE_URL)).kind).toBe('registered');
    await flush();
    await flush();
    expect(rides(seen).map((r) => r.data!.code)).toEqual([CODE_URL, OTHER_CODE]);
    expect(queuedScans()).toEqual([]);
  });

  it('a repeat scan (200, repeat) marks the kept ride as repeated; the next new ride clears the mark', async () => {
    fakeApi({
      'POST /v1/rides': { status: 200, body: { result: 'registered', ride: ride(), repeat: true } },
    });
    expect(await submitScan(CODE_URL)).toMatchObject({ kind: 'registered', ride: ride() });
    expect(taro.storage.get('rt.lastRideRepeat')).toBe(true);
    fakeApi({ 'POST /v1/rides': { status: 201, body: { result: 'registered', ride: ride() } } });
    await submitScan(CODE_URL);
    expect(taro.storage.has('rt.lastRideRepeat')).toBe(false);
  });
});
