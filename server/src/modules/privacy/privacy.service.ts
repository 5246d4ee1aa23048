import type { AccessLogEntry, PassengerExport } from '@ridetrace/shared';
import type { AppContext } from '../../context.js';
import { myNotifications } from '../notifications/notifications.service.js';
import { deleteAccount as deletePassenger, identityForExport } from '../passengers/passengers.service.js';
import { ridesOfPassenger } from '../rides/rides.service.js';
import { statusOf } from '../status/status.service.js';
import { forgetAccessLog, myAccessLog } from './access-log.service.js';

/** Right of access: everything held about the passenger, decrypted for them alone. */
export async function exportMyData(ctx: AppContext, passengerId: string): Promise<PassengerExport> {
  const passenger = await identityForExport(ctx, passengerId);
  const retentionDays = ctx.config.rides.retentionDays;
  return {
    generatedAt: ctx.now().toISOString(),
    passenger,
    rides: await ridesOfPassenger(ctx, passengerId, retentionDays),
    status: await statusOf(ctx, passengerId),
    notifications: await myNotifications(ctx, passengerId),
    accessLog: await wholeAccessLog(ctx, passengerId),
    retentionDays,
  };
}

/** Every page of the passenger's access log, newest first, as GET /v1/passengers/me/access-log lists it. */
async function wholeAccessLog(ctx: AppContext, passengerId: string): Promise<AccessLogEntry[]> {
  const items: AccessLogEntry[] = [];
  let cursor: string | null = null;
  do {
    const page = await myAccessLog(ctx.db, passengerId, { limit: 200, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}

/**
 * Right to erasure: the account (key destroyed, identity and consent gone), then its access log. The log goes also
 * when the account is gone already, so retrying after a failure between the two still clears it.
 */
export async function deleteAccount(ctx: AppContext, passengerId: string): Promise<void> {
  try {
    await deletePassenger(ctx, passengerId);
  } finally {
    await forgetAccessLog(ctx.db, passengerId);
  }
}
