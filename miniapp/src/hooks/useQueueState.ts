import { useDidShow } from '@tarojs/taro';
import { useEffect, useState } from 'react';
import type { Ride, ScanPreview } from '@ridetrace/shared';
import { pendingPreview, queueReport, queuedScans, subscribeQueue } from '../services/rides';
import { readStore, type QueueReport } from '../services/storage';

export interface QueueState {
  queued: number;
  report: QueueReport | null;
  pending: ScanPreview | null;
  lastRide: Ride | null;
}

function read(): QueueState {
  return {
    queued: queuedScans().length,
    report: queueReport(),
    pending: pendingPreview(),
    lastRide: readStore('rt.lastRide'),
  };
}

/** The offline queue and what the last flush did, kept current while the page is shown. */
export function useQueueState(): QueueState {
  const [state, setState] = useState(read);
  useEffect(() => {
    const unsubscribe = subscribeQueue(() => setState(read()));
    // A flush that ended between the first render and this subscription notified no one: read again.
    setState(read());
    return unsubscribe;
  }, []);
  useDidShow(() => setState(read()));
  return state;
}
