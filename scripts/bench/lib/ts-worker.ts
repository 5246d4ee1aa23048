import { Worker, type ResourceLimits } from 'node:worker_threads';

/** A worker thread running a TypeScript module: worker threads do not inherit tsx's module hooks on Node 20. */
export function tsWorker(target: URL, workerData?: unknown, resourceLimits?: ResourceLimits): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target.href)}); })`;
  return new Worker(boot, { eval: true, workerData, ...(resourceLimits ? { resourceLimits } : {}) });
}
