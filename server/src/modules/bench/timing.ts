/**
 * Request header asking a server with BENCH_ROUTES=on for its Server-Timing header (value `1`). Only the
 * benchmark's trace client sends it: measuring costs CPU that the throughput figures should not carry.
 */
export const BENCH_TIMING_HEADER = 'x-bench-timing';
