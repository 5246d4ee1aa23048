import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of the parties of a run, from /proc: the server children (with their cluster workers), the Postgres
 * cluster (postmaster and its backends), this process (the load generator) and the whole machine, so a figure comes
 * with who used the cores, and with how much of them went to processes outside the benchmark (another job on a
 * shared machine).
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
  /** The server processes' main threads (event loops), summed: time run and time waited for a core, in ns. */
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
   * The server processes' event-loop threads, summed: the share of the interval they ran, and the share they were
   * ready to run but waited for a core (taken by Postgres, the load generator or the server's own helper threads).
   */
  serverLoop: { ran: number; waited: number };
}

export class CpuMeter {
  /** `serverPids`: the server children this process started; their descendants (cluster workers) count too. */
  constructor(private readonly serverPids: () => readonly number[]) {}

  snapshot(): CpuSnapshot {
    const procs = allProcs();
    const servers = new Set(this.serverPids().filter((pid) => procs.has(pid)));
    for (let grown = true; grown;) {
      grown = false;
      for (const [pid, p] of procs) {
        if (!servers.has(pid) && servers.has(p.ppid)) {
          servers.add(pid);
          grown = true;
        }
      }
    }
    const postmasters = [...procs.entries()]
      .filter(([pid, p]) => p.ppid === process.pid && !servers.has(pid))
      .map(([pid]) => pid);
    let postgres = 0;
    for (const [pid, p] of procs) {
      if (postmasters.includes(pid) || postmasters.includes(p.ppid)) postgres += p.ticks;
    }
    let server = 0;
    const loop = { runNs: 0, waitNs: 0 };
    for (const pid of servers) {
      server += procs.get(pid)?.ticks ?? 0;
      const t = schedTimes(pid);
      loop.runNs += t.runNs;
      loop.waitNs += t.waitNs;
    }
    return {
      at: performance.now(),
      server,
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
      `cores used: server ${c.server} (event loops ran ${c.serverLoop.ran}, waited for a core ${c.serverLoop.waited}), ` +
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
