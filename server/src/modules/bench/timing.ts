import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type pg from 'pg';
import { GcPauses } from './gc-pauses.js';

/**
 * Request header asking a server with BENCH_ROUTES=on for its Server-Timing header (value `1`). Only the
 * benchmark's trace client sends it: measuring costs CPU that the throughput figures should not carry.
 */
export const BENCH_TIMING_HEADER = 'x-bench-timing';

/**
 * Server-Timing for the benchmark (BENCH_ROUTES=on, never in production: a timing oracle): the request's time in
 * the app, the event loop's busy time, the process's CPU time (other threads too), GC pauses, and the database
 * connections opened meanwhile (a new one pays its start-up and plans).
 */
export const benchTiming = fp(
  async (app: FastifyInstance, opts: { pool: pg.Pool | undefined }) => {
    const gc = new GcPauses();
    let connects = 0;
    opts.pool?.on('connect', () => connects++);
    const startOf = new WeakMap<
      object,
      { loop: EventLoopUtilization; cpu: NodeJS.CpuUsage; connects: number }
    >();
    app.addHook('onClose', async () => gc.stop());
    app.addHook('onRequest', async (req) => {
      if (req.headers[BENCH_TIMING_HEADER] !== '1') return;
      startOf.set(req, { loop: performance.eventLoopUtilization(), cpu: process.cpuUsage(), connects });
    });
    app.addHook('onSend', async (req, reply) => {
      const start = startOf.get(req);
      if (!start) return;
      const now = performance.now();
      const paused = gc.within(now - reply.elapsedTime, now);
      const busy = performance.eventLoopUtilization(start.loop).active;
      const used = process.cpuUsage(start.cpu);
      const cpu = (used.user + used.system) / 1000;
      reply.header(
        'server-timing',
        `app;dur=${reply.elapsedTime.toFixed(2)}, busy;dur=${busy.toFixed(2)}, cpu;dur=${cpu.toFixed(2)}, ` +
          `gc;dur=${paused.toFixed(2)}, conn;desc="${connects - start.connects} opened"`,
      );
    });
  },
  { name: 'bench-timing' },
);
