import type { Socket } from 'node:net';
import pg from 'pg';

/** The error of a query whose connection went silent; `isQueryTimeout` and `isDatabaseUnavailable` know it. */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

/** pg's private query state (no public flag tells whether a client is waiting for the server). */
interface QueryState {
  _getActiveQuery?: () => unknown;
  _queryQueue?: unknown[];
  _sentQueryQueue?: unknown[];
}

/**
 * Whether a query is in progress or queued on the client. Read from pg's private fields only when a connection
 * has been silent for the whole timeout; if a pg upgrade renamed them, this would answer false and the read timeout
 * would stop working, which the silent-connection test in tests/api/timeouts.test.ts would catch.
 */
function hasQueryOutstanding(client: pg.Client): boolean {
  const q = client as unknown as QueryState;
  return (
    (typeof q._getActiveQuery === 'function' && q._getActiveQuery() != null) ||
    (q._queryQueue?.length ?? 0) > 0 ||
    (q._sentQueryQueue?.length ?? 0) > 0
  );
}

/**
 * A pg client class whose queries cannot wait forever on a silent server: when its socket has received nothing
 * for `readTimeoutMillis` while a query is outstanding (a frozen or partitioned database — a live one cancels its
 * own statements after `statement_timeout`), the connection is destroyed. Every query on it then fails with
 * "Query read timeout" (503 to the client) and the pool discards the client (it is no longer queryable). A client
 * idle in the pool, or held by a transaction between statements, is left alone.
 *
 * Why not pg's own `query_timeout`: it arms a timer per query and wraps the query's callback in a closure that
 * clears it, and with that V8's young-generation collections keep the queries' results alive and promote them
 * (longer GC pauses on every trace).
 * Here there is no per-query work at all: one socket timer per connection, refreshed by Node on every read and
 * write, and pg's state is looked at only when it fires.
 */
export function watchedClient(readTimeoutMillis: number): typeof pg.Client {
  return class WatchedClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      const socket = this.connection.stream as Socket;
      socket.setTimeout(readTimeoutMillis);
      socket.on('timeout', () => {
        if (hasQueryOutstanding(this)) socket.destroy(new Error(QUERY_READ_TIMEOUT));
      });
    }
  };
}
