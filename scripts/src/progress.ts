import { SingleBar, Presets } from 'cli-progress';

/** Reports `done` of `total` work items; `stop()` ends the bar (or prints the last line) once. */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/**
 * A progress reporter for long CLI runs: a cli-progress bar when the stream is a terminal, otherwise
 * plain lines ("imported 20000/100000"), for the first update and then every tenth of the way, which
 * read well in CI logs and files.
 */
export function createProgress(
  verb: string,
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
): Progress {
  if (stream.isTTY) {
    let bar: SingleBar | undefined;
    return {
      update(done, total) {
        if (!bar) {
          bar = new SingleBar(
            { format: `${verb} [{bar}] {value}/{total} {percentage}% | eta {eta_formatted}`, stream },
            Presets.shades_classic,
          );
          bar.start(total, done);
        } else {
          bar.setTotal(total);
          bar.update(done);
        }
      },
      stop() {
        bar?.stop();
        bar = undefined;
      },
    };
  }
  let nextLine = 0;
  let latest = { done: 0, total: 0 };
  let printed = -1;
  const print = () => {
    stream.write(`${verb} ${latest.done}/${latest.total}\n`);
    printed = latest.done;
  };
  return {
    update(done, total) {
      latest = { done, total };
      if (done < nextLine && done !== total) return;
      const step = Math.max(1, Math.ceil(total / 10));
      nextLine = (Math.floor(done / step) + 1) * step;
      if (done !== printed) print();
    },
    stop() {
      // The last line shows where the run ended, also when it ended early.
      if (latest.total > 0 && latest.done !== printed) print();
    },
  };
}

/** Runs `fn` with a progress reporter's `update` as its callback, and stops the reporter however `fn` ends. */
export async function withProgress<T>(
  verb: string,
  fn: (onProgress: (done: number, total: number) => void) => Promise<T>,
): Promise<T> {
  const progress = createProgress(verb);
  try {
    return await fn((done, total) => progress.update(done, total));
  } finally {
    progress.stop();
  }
}
