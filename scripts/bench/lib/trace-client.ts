import { BENCH_TIMING_HEADER, GcPauses } from '@ridetrace/server';
import http from 'node:http';
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
  /** The server's own time and its GC pauses in it (Server-Timing, bench mode only). */
  serverMs: number | null;
  /** Of serverMs: the server's event loop busy (JavaScript, GC, callbacks); the rest waited for Postgres. */
  serverBusyMs: number | null;
  /** CPU time of the server process during the request (all its threads). */
  serverCpuMs: number | null;
  serverGcMs: number | null;
  /** Database connections the server opened during the request (each pays its start-up, catalog caches, plans). */
  serverConnects: number | null;
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
  // A young generation large enough that a set of traces rarely meets a scavenge in this thread.
  private readonly worker = tsWorker(new URL('./trace-client.ts', import.meta.url), undefined, {
    maxYoungGenerationSizeMb: 96,
  });

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

interface Reply {
  status: number;
  body: string;
  serverTiming: string;
}

/** GET over one kept-alive connection with node:http: fetch allocates enough to put our GC into traces. */
function get(agent: http.Agent, url: string, token: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      url,
      { agent, headers: { authorization: `Bearer ${token}`, [BENCH_TIMING_HEADER]: '1' } },
      (res) => {
        res.setEncoding('utf8');
        let body = '';
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            serverTiming: String(res.headers['server-timing'] ?? ''),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

type ServerTimes = Pick<
  TraceSample,
  'serverMs' | 'serverBusyMs' | 'serverCpuMs' | 'serverGcMs' | 'serverConnects'
>;

/** The server's times from its Server-Timing header (`name;dur=ms, …`); NaN for a metric it did not send. */
function serverTimes(header: string): ServerTimes {
  const dur = (name: string) => Number(new RegExp(`(?:^|, )${name};dur=([\\d.]+)`).exec(header)?.[1] ?? NaN);
  const connects = Number(/(?:^|, )conn;desc="(\d+) opened"/.exec(header)?.[1] ?? NaN);
  return {
    serverMs: dur('app'),
    serverBusyMs: dur('busy'),
    serverCpuMs: dur('cpu'),
    serverGcMs: dur('gc'),
    serverConnects: connects,
  };
}

async function run(job: TraceJob): Promise<TraceSample[]> {
  const gc = new GcPauses();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples: TraceSample[] = [];
  for (const id of job.caseIds) {
    const t = performance.now();
    let exposed = -1;
    let times: ServerTimes = {
      serverMs: null,
      serverBusyMs: null,
      serverCpuMs: null,
      serverGcMs: null,
      serverConnects: null,
    };
    let error: string | undefined;
    try {
      const res = await get(agent, `${job.url}/v1/cases/${id}/exposures?degree=${job.degree}`, job.token);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body}`);
      // The whole page is read and parsed, as a client would.
      exposed = (JSON.parse(res.body) as { total: number }).total;
      times = serverTimes(res.serverTiming);
    } catch (err) {
      error = (err as Error).message;
    }
    const end = performance.now();
    samples.push({
      ms: end - t,
      exposed,
      ...times,
      gcMs: gc.within(t, end),
      ...(error ? { error } : {}),
    });
  }
  gc.stop();
  agent.destroy();
  return samples;
}

// In the worker: one job per message.
if (parentPort) {
  const port = parentPort;
  port.on('message', (job: TraceJob) => {
    void run(job).then((samples) => port.postMessage(samples));
  });
}
