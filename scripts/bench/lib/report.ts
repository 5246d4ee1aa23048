/** One figure of the benchmark: printed in the table and as one JSON line `{"name","value","unit"}`. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Target, e.g. "≤ 25" or "≥ 0.8"; checked when `ok` is set. */
  target?: string;
  ok?: boolean;
  note?: string;
}

export class Report {
  readonly figures: Figure[] = [];

  add(f: Figure): Figure {
    const value = Number.isInteger(f.value) ? f.value : Math.round(f.value * 100) / 100;
    const fig = { ...f, value };
    this.figures.push(fig);
    console.log(JSON.stringify({ name: fig.name, value: fig.value, unit: fig.unit }));
    return fig;
  }

  /** The human table. */
  table(): string {
    const rows = this.figures.map((f) => [
      f.name,
      String(f.value),
      f.unit,
      f.target ?? '',
      f.ok === undefined ? '' : f.ok ? 'met' : 'MISSED',
      f.note ?? '',
    ]);
    const head = ['figure', 'value', 'unit', 'target', 'result', 'note'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) =>
      r
        .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
