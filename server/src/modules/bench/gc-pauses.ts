import { PerformanceObserver } from 'node:perf_hooks';

/**
 * The garbage collections of this thread, kept for a while, to tell how much of a time span was GC pause (the
 * benchmark's Server-Timing header and its measuring client). Diagnostics only.
 */
export class GcPauses {
  private readonly recent: { start: number; end: number }[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      this.recent.push({ start: e.startTime, end: e.startTime + e.duration });
      if (this.recent.length > this.keep) this.recent.shift();
    }
  });

  constructor(private readonly keep = 1024) {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Milliseconds of GC between two `performance.now()` times. */
  within(from: number, to: number): number {
    return this.recent.reduce(
      (sum, g) => sum + Math.max(0, Math.min(to, g.end) - Math.max(from, g.start)),
      0,
    );
  }

  stop(): void {
    this.observer.disconnect();
  }
}
