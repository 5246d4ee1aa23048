/** Minutes without keyboard, mouse or touch input after which the console signs the official out. */
export const IDLE_SIGN_OUT_MINUTES = 15;

/** Refresh the session this long before its access cookie lapses. */
export const REFRESH_MARGIN_SECONDS = 60;

/** How often delivery progress is read again while notifications are still queued or being sent. */
export const DELIVERY_POLL_MS = 2000;
/** How long after a message was sent the case view keeps asking for its delivery receipt. */
export const RECEIPT_WAIT_MS = 120_000;

/** How often the case view asks again whether a pending reveal request was decided. */
export const REVEAL_POLL_MS = 5000;

/** Rows per page of server-paged tables. */
export const PAGE_SIZE = 20;
