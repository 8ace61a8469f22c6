/**
 * A one-line progress bar for Node terminals; silent when stdout is not a TTY
 * (CI logs, pipes) and in browsers.
 *
 *   epoch 2/8 [██████████░░░░░░░░░░] 64/125 loss 0.2931 acc 0.9141 6,412 samples/s
 */

interface TtyStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

function stdoutTty(): TtyStream | null {
  const p = (globalThis as { process?: { stdout?: TtyStream } }).process;
  const out = p?.stdout;
  return out && out.isTTY ? out : null;
}

export class ProgressBar {
  private readonly out: TtyStream | null;
  private lastDraw = 0;

  constructor(enabled: boolean | 'auto' = 'auto') {
    this.out = enabled === false ? null : stdoutTty();
  }

  get active(): boolean {
    return this.out !== null;
  }

  /** Redraws the line (at most every 50 ms unless `force`). */
  update(prefix: string, done: number, total: number, suffix: string, force = false): void {
    if (!this.out) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 50) return;
    this.lastDraw = now;
    const width = 20;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    let line = `${prefix} [${bar}] ${done}/${total} ${suffix}`;
    const cols = this.out.columns ?? 120;
    if (line.length > cols - 1) line = line.slice(0, cols - 1);
    this.out.write(`\r\x1b[2K${line}`);
  }

  /** Ends the line, leaving `text` (the epoch summary) on it. */
  finish(text: string): void {
    if (!this.out) return;
    this.out.write(`\r\x1b[2K${text}\n`);
  }
}
