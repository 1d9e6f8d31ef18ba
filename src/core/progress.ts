/**
 * Progress output: a redrawn bar on a terminal, plain log lines elsewhere (CI logs, pipes).
 * Writes to stderr so stdout stays clean for --json output. PAPERLAB_QUIET=1 silences it.
 */
export interface ProgressOptions {
  label?: string;
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Plain-mode lines to print over the whole run (default 10). */
  lines?: number;
  quiet?: boolean;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return a >= 100 ? v.toFixed(0) : v.toFixed(4);
}

export class Progress {
  private readonly start = Date.now();
  private lastDraw = 0;
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly tty: boolean;
  private readonly every: number;
  private readonly quiet: boolean;

  constructor(
    readonly total: number,
    private readonly opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.every = Math.max(1, Math.ceil(total / (opts.lines ?? 10)));
    this.quiet = opts.quiet ?? process.env.PAPERLAB_QUIET === '1';
  }

  private line(done: number, metrics: Record<string, number>): string {
    const secs = (Date.now() - this.start) / 1000;
    const eta = done > 0 ? (secs / done) * (this.total - done) : 0;
    const m = Object.entries(metrics).map(([k, v]) => `${k} ${fmt(v)}`).join('  ');
    return `${this.opts.label ?? ''} ${done}/${this.total}  ${m}  ${secs.toFixed(0)}s elapsed, ~${eta.toFixed(0)}s left`.trim();
  }

  /** Reports `done` completed units (1-based) with the latest metrics. */
  tick(done: number, metrics: Record<string, number> = {}): void {
    if (this.quiet) return;
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      const width = 20;
      const filled = Math.round((done / Math.max(1, this.total)) * width);
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
      const text = `${bar} ${this.line(done, metrics)}`;
      const cols = this.stream.columns ?? 120;
      this.stream.write(`\r${text.slice(0, cols - 1).padEnd(Math.min(cols - 1, text.length))}\x1b[K`);
      if (done >= this.total) this.stream.write('\n');
    } else if (done % this.every === 0 || done === this.total || done === 1) {
      this.stream.write(`${this.line(done, metrics)}\n`);
    }
  }

  /** A free-form message that does not break the bar. */
  log(msg: string): void {
    if (this.quiet) return;
    this.stream.write(this.tty ? `\r\x1b[K${msg}\n` : `${msg}\n`);
  }
}
