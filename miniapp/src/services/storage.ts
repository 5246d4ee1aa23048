import Taro from '@tarojs/taro';
import type { PassengerProfile, Ride, ScanPreview } from '@ridetrace/shared';
import type { Lang } from './i18n-core';

/** A scan that could not be sent for lack of network; retried with the same clientRideId. */
export interface QueuedScan {
  code: string;
  clientRideId: string;
  scannedAt: string;
}

export interface StoredToken {
  token: string;
  /** ms since epoch */
  expiresAt: number;
}

/** What the last queue flush did, shown on the scan page until dismissed. */
export interface QueueReport {
  delivered: Ride[];
  failed: { code: string; clientRideId: string; error: string }[];
}

/** Every key this app keeps on the device (Taro storage: wx storage on weapp, localStorage on h5). */
interface Schema {
  'rt.lang': Lang;
  'rt.passengerToken': StoredToken;
  'rt.staffToken': StoredToken;
  'rt.queue': QueuedScan[];
  'rt.queueReport': QueueReport;
  'rt.pendingPreview': ScanPreview;
  'rt.lastRide': Ride;
  /** The last scan repeated that ride (the same vehicle moments before): the pass says it was not registered twice. */
  'rt.lastRideRepeat': true;
  /** The passenger's own name and phone, so a renewed consent needs no retyping. Cleared by "delete my data". */
  'rt.identity': { name: string; phone: string };
  /** The passenger's profile as the server shows it (masked name and phone, whether the phone is verified). */
  'rt.profile': PassengerProfile;
  /** h5 only: the login-code bridge (see services/login.ts). */
  'rt.loginCode': string;
}

export type StorageKey = keyof Schema;

export function readStore<K extends StorageKey>(key: K): Schema[K] | null {
  try {
    const value = Taro.getStorageSync(key) as Schema[K] | '' | undefined | null;
    return value === '' || value === undefined || value === null ? null : value;
  } catch {
    return null;
  }
}

export function writeStore<K extends StorageKey>(key: K, value: Schema[K]): void {
  Taro.setStorageSync(key, value);
}

export function removeStore(key: StorageKey): void {
  Taro.removeStorageSync(key);
}
