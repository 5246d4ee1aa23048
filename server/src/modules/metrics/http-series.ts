import type { Metric } from 'prom-client';

interface Series {
  /** Observations per bucket, not cumulative; the last one is above every bound (+Inf). */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
  readonly byStatus: Map<number, number>;
}

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * The request counter and latency histogram of every request, kept as plain numbers per (method, route): a
 * request costs two map look-ups and a few additions. prom-client's own metrics hash their label values into a
 * new string on every call; these are turned into its metric objects only when scraped (`get`, the shape its
 * Registry and AggregatorRegistry read).
 */
export class HttpSeries {
  private readonly series = new Map<string, Map<string, Series>>();

  constructor(private readonly bounds: readonly number[]) {}

  observe(method: string, route: string, status: number, seconds: number): void {
    let byRoute = this.series.get(method);
    if (!byRoute) {
      byRoute = new Map();
      this.series.set(method, byRoute);
    }
    let s = byRoute.get(route);
    if (!s) {
      s = { buckets: new Float64Array(this.bounds.length + 1), sum: 0, count: 0, byStatus: new Map() };
      byRoute.set(route, s);
    }
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]!) i++;
    s.buckets[i]!++;
    s.sum += seconds;
    s.count++;
    s.byStatus.set(status, (s.byStatus.get(status) ?? 0) + 1);
  }

  private *each(): Generator<[string, string, Series]> {
    for (const [method, byRoute] of this.series) for (const [route, s] of byRoute) yield [method, route, s];
  }

  /** A counter of requests by method, route and status, as a prom-client metric. */
  counter(name: string, help: string): Metric {
    const get = () => {
      const values: Value[] = [];
      for (const [method, route, s] of this.each())
        for (const [status, n] of s.byStatus) values.push({ labels: { method, route, status }, value: n });
      return { name, help, type: 'counter', aggregator: 'sum', values };
    };
    return this.metric(name, help, 'counter', get);
  }

  /** The latency histogram by method and route, as a prom-client metric. */
  histogram(name: string, help: string): Metric {
    const get = () => {
      const values: Value[] = [];
      for (const [method, route, s] of this.each()) {
        let acc = 0;
        this.bounds.forEach((le, i) => {
          acc += s.buckets[i]!;
          values.push({ labels: { le, method, route }, value: acc, metricName: `${name}_bucket` });
        });
        values.push(
          { labels: { le: '+Inf', method, route }, value: s.count, metricName: `${name}_bucket` },
          { labels: { method, route }, value: s.sum, metricName: `${name}_sum` },
          { labels: { method, route }, value: s.count, metricName: `${name}_count` },
        );
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    };
    return this.metric(name, help, 'histogram', get);
  }

  private metric(name: string, help: string, type: string, get: () => object): Metric {
    const metric = {
      name,
      help,
      type,
      aggregator: 'sum',
      get: () => Promise.resolve(get()),
      reset: () => this.series.clear(),
    };
    return metric as unknown as Metric;
  }
}
