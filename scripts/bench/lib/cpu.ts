import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of the parties of a run, from /proc: the server child, the Postgres cluster (postmaster and its
 * backends), this process (the load generator) and the whole machine, so a figure comes with who used the cores,
 * and with how much of them went to processes outside the benchmark (another job on a shared machine).
 */
const TICK = 100; // USER_HZ on Linux

function procTimes(pid: number): { ppid: number; ticks: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "(comm)": ppid(1) … utime(11) stime(12) cutime(13) cstime(14); c-times hold exited backends.
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

function allProcs(): Map<number, { ppid: number; ticks: number }> {
  const out = new Map<number, { ppid: number; ticks: number }>();
  let names: string[] = [];
  try {
    names = readdirSync('/proc');
  } catch {
    return out; // not Linux: no CPU shares
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const t = procTimes(Number(name));
    if (t) out.set(Number(name), t);
  }
  return out;
}

/**
 * Nanoseconds a thread has run and has waited runnable for a core (the first two fields of its schedstat). For a
 * process this is its main thread: in Node, the event loop.
 */
function schedTimes(pid: number): { runNs: number; waitNs: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { runNs: run ?? 0, waitNs: wait ?? 0 };
  } catch {
    return { runNs: 0, waitNs: 0 };
  }
}

function machineTicks(): { busy: number; total: number } {
  let stat = 'cpu 0';
  try {
    stat = readFileSync('/proc/stat', 'utf8');
  } catch {
    // not Linux
  }
  const line = stat.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  const total = line.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface CpuSnapshot {
  at: number;
  server: number;
  postgres: number;
  runner: number;
  machineBusy: number;
  /** The server's main thread (the event loop): time run and time waited for a core, in ns. */
  serverLoopRunNs: number;
  serverLoopWaitNs: number;
}

export interface CpuShare {
  /** Cores used on average over the interval. */
  server: number;
  postgres: number;
  runner: number;
  other: number;
  machine: number;
  /**
   * The server's event-loop thread: the share of the interval it ran, and the share it was ready to run but waited
   * for a core (taken by Postgres, the load generator or the server's own helper threads). The rest it idled.
   */
  serverLoop: { ran: number; waited: number };
}

export class CpuMeter {
  constructor(private readonly serverPid: () => number | undefined) {}

  snapshot(): CpuSnapshot {
    const procs = allProcs();
    const postmasters = [...procs.entries()]
      .filter(([pid, p]) => p.ppid === process.pid && pid !== this.serverPid())
      .map(([pid]) => pid);
    let postgres = 0;
    for (const [pid, p] of procs) {
      if (postmasters.includes(pid) || postmasters.includes(p.ppid)) postgres += p.ticks;
    }
    const server = this.serverPid();
    const loop = server ? schedTimes(server) : { runNs: 0, waitNs: 0 };
    return {
      at: performance.now(),
      server: server ? (procs.get(server)?.ticks ?? 0) : 0,
      postgres,
      runner: procs.get(process.pid)?.ticks ?? 0,
      machineBusy: machineTicks().busy,
      serverLoopRunNs: loop.runNs,
      serverLoopWaitNs: loop.waitNs,
    };
  }

  static share(a: CpuSnapshot, b: CpuSnapshot): CpuShare {
    const s = (b.at - a.at) / 1000;
    const cores = (ticks: number) => Math.round((ticks / TICK / s) * 100) / 100;
    const server = cores(b.server - a.server);
    const postgres = cores(b.postgres - a.postgres);
    const runner = cores(b.runner - a.runner);
    const machine = cores(b.machineBusy - a.machineBusy);
    const ofInterval = (ns: number) => Math.round((ns / 1e9 / s) * 100) / 100;
    return {
      server,
      postgres,
      runner,
      other: Math.max(0, Math.round((machine - server - postgres - runner) * 100) / 100),
      machine,
      serverLoop: {
        ran: ofInterval(b.serverLoopRunNs - a.serverLoopRunNs),
        waited: ofInterval(b.serverLoopWaitNs - a.serverLoopWaitNs),
      },
    };
  }

  /** Cores used on average over several intervals, given as snapshot pairs (start, end, start, end…). */
  static shareOfPairs(pairs: CpuSnapshot[]): CpuShare {
    const zero: CpuSnapshot = {
      at: 0,
      server: 0,
      postgres: 0,
      runner: 0,
      machineBusy: 0,
      serverLoopRunNs: 0,
      serverLoopWaitNs: 0,
    };
    return CpuMeter.share(zero, sumOfPairs(pairs, Object.keys(zero) as (keyof CpuSnapshot)[]));
  }

  static describe(c: CpuShare): string {
    return (
      `cores used: server ${c.server} (event loop ran ${c.serverLoop.ran}, waited for a core ${c.serverLoop.waited}), ` +
      `postgres ${c.postgres}, load generator ${c.runner}` +
      `${c.other >= 0.1 ? `, OTHER PROCESSES ${c.other}` : ''}`
    );
  }
}

/** Per key, the sum of the differences over snapshot pairs (start, end, start, end…): several intervals as one. */
export function sumOfPairs<K extends string>(
  pairs: readonly Record<K, number>[],
  keys: readonly K[],
): Record<K, number> {
  const sum = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    for (const k of keys) sum[k] += pairs[i + 1]![k] - pairs[i]![k];
  }
  return sum;
}
