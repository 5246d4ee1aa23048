import type { ExposurePage } from '@ridetrace/shared';
import { PerformanceObserver } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { tsWorker } from './ts-worker.js';

export interface TraceJob {
  url: string;
  token: string;
  caseIds: string[];
  degree: 1 | 2;
}

export interface TraceSample {
  /** Request to parsed page, as an official's system sees it. */
  ms: number;
  /** People on the case's exposure list; -1 when the request failed. */
  exposed: number;
  /** The server's own time (Server-Timing, bench mode only). */
  serverMs: number | null;
  /** This thread's garbage collection during the request. */
  gcMs: number;
  error?: string;
}

/**
 * An official's system reading exposures, one request at a time, in a worker thread: the bench process holds the
 * loaded city (hundreds of MB), and its garbage collections would otherwise pause the measuring client. One
 * worker for every set, so the warm-up warms its connection and JIT too.
 */
export class TraceClient {
  private readonly worker = tsWorker(new URL('./trace-client.ts', import.meta.url));

  /** Reads the exposures of each case once. */
  measure(job: TraceJob): Promise<TraceSample[]> {
    return new Promise<TraceSample[]>((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      this.worker.once('error', fail);
      this.worker.once('message', (samples: TraceSample[]) => {
        this.worker.off('error', fail);
        resolve(samples);
      });
      this.worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

async function run(job: TraceJob): Promise<TraceSample[]> {
  const gcs: { start: number; end: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime, end: e.startTime + e.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  const gcWithin = (from: number, to: number) =>
    gcs.reduce((sum, g) => sum + Math.max(0, Math.min(to, g.end) - Math.max(from, g.start)), 0);
  const samples: TraceSample[] = [];
  for (const id of job.caseIds) {
    const t = performance.now();
    let exposed = -1;
    let serverMs: number | null = null;
    let error: string | undefined;
    try {
      const res = await fetch(`${job.url}/v1/cases/${id}/exposures?degree=${job.degree}`, {
        headers: { authorization: `Bearer ${job.token}` },
      });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      exposed = ((await res.json()) as ExposurePage).total;
      serverMs = Number(/dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? NaN);
    } catch (err) {
      error = (err as Error).message;
    }
    const end = performance.now();
    samples.push({ ms: end - t, exposed, serverMs, gcMs: gcWithin(t, end), ...(error ? { error } : {}) });
  }
  observer.disconnect();
  return samples;
}

// In the worker: one job per message.
if (parentPort) {
  const port = parentPort;
  port.on('message', (job: TraceJob) => {
    void run(job).then((samples) => port.postMessage(samples));
  });
}
