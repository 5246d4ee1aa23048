import {
  DeliveryError,
  type ExposureMessage,
  type MessageSender,
  type SentMessage,
  type SmsSender,
} from '../../adapters/notify.js';
import type { AppContext } from '../../context.js';
import type { NotificationsTable, PassengerRow } from '../../db/tables.js';
import type { Selectable } from 'kysely';
import { metricsOf, type Metrics } from '../metrics/metrics.service.js';
import {
  contactAddress,
  findPassengersByIds,
  returnMessageGrant,
  takeMessageGrant,
} from '../passengers/passengers.service.js';
import * as repo from './notifications.repository.js';

export interface Senders {
  app: MessageSender;
  sms: SmsSender;
}

const LEASE_SECONDS = 60;

type Claimed = Selectable<NotificationsTable>;
type Mark = Awaited<ReturnType<typeof repo.findMarksOf>>[number];

/** What a batch needs to compose its messages: read with two queries for the batch, not two per message. */
interface BatchDetails {
  passengers: Map<string, PassengerRow>;
  marks: Map<string, Mark>;
}

const markKey = (caseId: string, passengerId: string, degree: number) => `${caseId}/${passengerId}/${degree}`;

/**
 * Delivers queued notifications from the outbox table. Several processes may run one: rows are claimed with
 * FOR UPDATE SKIP LOCKED under a lease, so a crashed sender's rows are picked up again after the lease.
 * Retries back off exponentially (base × 2^(attempt−1), ± 20 % jitter); after the last attempt a super-app
 * message falls back to SMS, and a failed SMS ends in `failed`. A sent row keeps the provider's id of its message,
 * which the provider's delivery receipts name (notifications.service.ts applyDeliveryReceipts).
 */
export class NotificationWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly metrics: Metrics;

  constructor(
    private readonly ctx: AppContext,
    private readonly senders: Senders,
    private readonly log: (err: unknown, msg: string) => void,
  ) {
    this.metrics = metricsOf(ctx);
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.ctx.config.notify.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Runs a delivery round now (or right after the current one). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .then(() => undefined)
      .catch((err: unknown) => this.log(err, 'notification round failed'))
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Waits for the current round, then closes the senders' idle connections (a restart reopens them). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await Promise.all([this.senders.app.close?.(), this.senders.sms.close?.()]);
  }

  /** Delivers until nothing is due; returns the number of rows handled. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      if (this.stopped) return total;
      const batch = await repo.claimDue(this.ctx.db, this.ctx.config.notify.concurrency, LEASE_SECONDS);
      if (batch.length === 0) return total;
      const details = this.loadDetails(batch);
      // A failed read fails each row of the batch in deliver(), as a retryable error.
      details.catch(() => undefined);
      await Promise.all(batch.map((n) => this.deliver(n, details)));
      total += batch.length;
    }
  }

  private async loadDetails(batch: Claimed[]): Promise<BatchDetails> {
    const [passengers, marks] = await Promise.all([
      findPassengersByIds(this.ctx, [...new Set(batch.map((n) => n.passenger_id))]),
      repo.findMarksOf(this.ctx.db, batch),
    ]);
    return {
      passengers: new Map(passengers.map((p) => [p.id, p])),
      marks: new Map(marks.map((m) => [markKey(m.case_id, m.passenger_id, m.degree), m])),
    };
  }

  private async deliver(n: Claimed, details: Promise<BatchDetails>): Promise<void> {
    const { db } = this.ctx;
    const channel = n.channel === 'app' ? 'superapp' : 'sms';
    try {
      const { passengers, marks } = await details;
      const address = contactAddress(this.ctx, passengers.get(n.passenger_id), n.channel);
      const mark = marks.get(markKey(n.case_id, n.passenger_id, n.degree));
      if (!mark) throw new DeliveryError('no exposure mark', false);
      const msg: ExposureMessage = {
        degree: n.degree,
        plate: mark.plate,
        kind: mark.kind,
        route: mark.route,
        boardedAt: mark.boarded_at,
        observeUntil: mark.observe_until,
      };
      if (n.channel === 'app') {
        if (!address) throw new DeliveryError('no super-app user id', false);
        // Grants count accepted subscriptions of the exposure template; a secondary-contact notice has its own
        // template, which the super-app checks itself (refused: 43101, then SMS), and must not use them up.
        const grant = n.degree === 1;
        let sent: SentMessage;
        // No accepted subscription left: the super-app would refuse (43101), so SMS at once.
        if (grant && !(await takeMessageGrant(this.ctx, n.passenger_id)))
          throw new DeliveryError('no subscription grant', false);
        try {
          sent = await this.senders.app.send(address, msg);
        } catch (err) {
          if (grant && err instanceof DeliveryError && err.retryable)
            await returnMessageGrant(this.ctx, n.passenger_id);
          throw err;
        }
        await this.markSent(n, sent);
      } else {
        if (!address) throw new DeliveryError('no verified phone number', false);
        await this.markSent(n, await this.senders.sms.send(address, msg));
      }
      this.metrics.delivery(channel, 'sent');
    } catch (err) {
      const e = err instanceof DeliveryError ? err : new DeliveryError((err as Error).message, true);
      const { maxAttempts, backoffBaseMs } = this.ctx.config.notify;
      if (e.retryable && n.attempts < maxAttempts) {
        const delay = backoffBaseMs * 2 ** (n.attempts - 1) * (0.8 + Math.random() * 0.4);
        await repo.markRetry(db, n.id, e.message, delay);
        this.metrics.delivery(channel, 'retried');
      } else if (n.channel === 'app') {
        await repo.markFallback(db, n.id, 'sms', `app: ${e.message}`);
        this.metrics.delivery(channel, 'fallback');
      } else {
        await repo.markFailed(db, n.id, e.message);
        this.metrics.delivery(channel, 'failed');
      }
    }
  }

  private markSent(n: Claimed, sent: SentMessage): Promise<void> {
    return repo.markSent(
      this.ctx.db,
      n.id,
      sent.messageId ? repo.providerKey(n.channel, sent.messageId) : null,
    );
  }
}
