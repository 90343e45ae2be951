/**
 * W&B's JSON dialect. Its SDK (wandb-core's simplejsonext, and the Python
 * SDK's json before it) writes NaN, Infinity and -Infinity as bare tokens, and
 * the server reads them back as those numbers; a string "NaN" would be a string.
 * Plain JSON has no way to say them, so the spool keeps a non-finite metric as
 * the string that names it, and the line sent carries the bare token.
 */

const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);
// A private-use character cannot occur in a metric name or JSON text poke writes, so the marker is unambiguous.
const MARK = '\uE000';

/** A metric value as the spool keeps it: finite numbers as they are, the rest as "NaN", "Infinity", "-Infinity". */
export function spoolNumber(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

/** JSON text in W&B's dialect: a non-finite number, or a string naming one, is written as a bare token. */
export function wandbJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return MARK + String(v);
    if (typeof v === 'string' && NON_FINITE.has(v)) return MARK + v;
    return v;
  });
  return text.replace(new RegExp(`"${MARK}(NaN|-?Infinity)"`, 'g'), '$1');
}
