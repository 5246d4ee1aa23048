/**
 * Delivery receipts a fake gateway owes the server, posted back as a gateway (or the bridge in front of it) would:
 * POST {baseUrl}/v1/delivery-receipts/{channel} with the bearer token DELIVERY_RECEIPT_TOKEN.
 */

/** One receipt as the API takes it. */
export interface FakeReceipt {
  messageId: string;
  status: 'delivered' | 'failed';
  error?: string;
}

/** A POST the fake made and the server's answer. */
export interface PostedReceipts {
  receipts: FakeReceipt[];
  status: number;
  body: unknown;
}

/**
 * The receipts of one fake gateway. Nothing is posted until `target` is set. With `delayMs` a number, each accepted
 * message's receipt is posted that long after the send, on its own, and posted again (a few times, further apart)
 * while the server ignores it: the id may not be stored yet, and real gateways resend too. With `delayMs` null,
 * receipts wait in `pending` until `flush()` posts them in one batch.
 */
export interface FakeReceipts {
  target: { baseUrl: string; token: string } | null;
  delayMs: number | null;
  /** Recipients (openid or phone as the fake received it) whose messages are reported failed, with the reason. */
  failFor: Map<string, string>;
  pending: FakeReceipt[];
  posted: PostedReceipts[];
  /** Records an accepted message: its receipt is due (called by the fakes). */
  accepted(messageId: string, recipient: string): void;
  /** Posts every pending receipt now, in one batch; the server's answer (null when nothing was pending). */
  flush(): Promise<PostedReceipts | null>;
  /** Stops posting receipts still waiting for their delay; the fake's close() calls it. */
  stop(): void;
}

const RESENDS = 5;

export function fakeReceipts(channel: 'app' | 'sms'): FakeReceipts {
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const post = async (receipts: FakeReceipt[]): Promise<PostedReceipts> => {
    const target = state.target;
    if (!target) throw new Error('fake receipts: no target set');
    let posted: PostedReceipts;
    try {
      const res = await fetch(`${target.baseUrl}/v1/delivery-receipts/${channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
        body: JSON.stringify({ receipts }),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text
      }
      posted = { receipts, status: res.status, body };
    } catch (err) {
      posted = { receipts, status: 0, body: String(err) };
    }
    state.posted.push(posted);
    return posted;
  };

  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) run();
    }, ms);
    timer.unref();
    timers.add(timer);
  };

  /** Posts one receipt; resends it while the server ignores it (its id not stored yet) or cannot be reached. */
  const deliverLater = (receipt: FakeReceipt, delayMs: number, attempt = 0) =>
    later(delayMs * 2 ** attempt, () => {
      void post([receipt]).then((p) => {
        const ignored = (p.body as { ignored?: unknown } | null)?.ignored;
        if ((p.status !== 200 || ignored === 1) && attempt < RESENDS)
          deliverLater(receipt, delayMs, attempt + 1);
      });
    });

  const state: FakeReceipts = {
    target: null,
    delayMs: null,
    failFor: new Map(),
    pending: [],
    posted: [],
    accepted(messageId, recipient) {
      const error = state.failFor.get(recipient);
      const receipt: FakeReceipt =
        error === undefined ? { messageId, status: 'delivered' } : { messageId, status: 'failed', error };
      if (state.target && state.delayMs !== null) deliverLater(receipt, state.delayMs);
      else state.pending.push(receipt);
    },
    async flush() {
      if (state.pending.length === 0) return null;
      const receipts = state.pending.splice(0);
      return post(receipts);
    },
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
  return state;
}
