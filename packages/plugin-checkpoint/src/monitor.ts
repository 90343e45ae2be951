import { UserError } from '@poke/core';

/** The monitored metric must be one the trainer logs, or no checkpoint could ever be best. */
export function checkMonitor(plugin: string, monitor: string, known: readonly string[], explicit: boolean): void {
  if (known.includes(monitor)) return;
  const hint = known.find((k) => k.replace(/^val_/, '') === monitor.replace(/^val_/, ''));
  const why = explicit ? '' : ' (the default, because this run has no validation split)';
  throw new UserError(
    `plugin ${plugin}: options.monitor "${monitor}"${why} is not a metric this run logs; it logs ${known.join(', ')}`,
    hint ? `did you mean "${hint}"?` : 'set options.monitor to one of them',
  );
}
