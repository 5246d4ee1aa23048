/**
 * At most `limit` holders at a time; the others wait their turn in arrival order (never refused): heavy work
 * queues here instead of taking every database connection from the requests around it.
 */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, so `active` never drops below the number running.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * Gives the event loop back every `sliceMs` of a long synchronous loop (call `due()` in it, `await pause()` when it
 * says so): scans must not wait behind a big trace's decryption, nor be shed for the lag it causes.
 */
export class Pacer {
  private last = performance.now();

  constructor(private readonly sliceMs = 20) {}

  due(): boolean {
    return performance.now() - this.last >= this.sliceMs;
  }

  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.last = performance.now();
  }
}
