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
  useEffect(() => subscribeQueue(() => setState(read())), []);
  useDidShow(() => setState(read()));
  return state;
}
