type Write = typeof process.stdout.write;

/**
 * Copies what the process prints to stdout and stderr into the run's console log,
 * whole lines at a time, while printing it as before (the SDK wraps sys.stdout and
 * sys.stderr the same way). A carriage return starts the line over, as a terminal
 * shows it, so a progress bar leaves its last state.
 */
export class ConsoleCapture {
  private readonly restores: Array<() => void> = [];
  private readonly partial = { stdout: '', stderr: '' };
  private active = true;

  constructor(private readonly onLines: (stream: 'stdout' | 'stderr', lines: string[]) => void) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper is called with the stream as `this`
    const capture = this;
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = process[name];
      const original = stream.write;
      const wrapped = function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
        capture.take(name, chunk);
        return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
      } as Write;
      stream.write = wrapped;
      // Another wrapper installed later stays in place: ours then only stops copying.
      this.restores.push(() => {
        if (stream.write === wrapped) stream.write = original;
      });
    }
  }

  private take(name: 'stdout' | 'stderr', chunk: unknown): void {
    if (!this.active) return;
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : '';
    if (!text) return;
    const parts = (this.partial[name] + text).split('\n');
    this.partial[name] = parts.pop()!;
    const lines = parts.map((line) => line.slice(line.lastIndexOf('\r') + 1));
    if (lines.length) this.onLines(name, lines);
  }

  /** Stop copying; a last line without its newline is kept too. */
  stop(): void {
    if (!this.active) return;
    for (const name of ['stdout', 'stderr'] as const) {
      const rest = this.partial[name];
      if (rest) this.onLines(name, [rest.slice(rest.lastIndexOf('\r') + 1)]);
    }
    this.active = false;
    for (const restore of this.restores.splice(0)) restore();
  }
}
