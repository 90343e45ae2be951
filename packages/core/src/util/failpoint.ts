const counts = new Map<string, number>();

/**
 * Crash here, for the reliability suite: when `POKE_FAULT_AT` is `name` (or
 * `name:N`, the Nth time), the process kills itself with SIGKILL, exactly in
 * the window a random kill rarely hits (between a manifest write and the
 * folder removal it announces, between a temporary file and its rename).
 * Costs one environment lookup otherwise.
 */
export function failpoint(name: string): void {
  const spec = process.env.POKE_FAULT_AT;
  if (!spec || !spec.startsWith(name)) return;
  const match = /^(.*):(\d+)$/.exec(spec);
  const [wanted, nth] = match ? [match[1], match[2]] : [spec, '1'];
  if (wanted !== name) return;
  const count = (counts.get(name) ?? 0) + 1;
  counts.set(name, count);
  if (count >= Number(nth)) process.kill(process.pid, 'SIGKILL');
}
