/**
 * A mistake the user can fix (bad config, unknown plugin, bad flag).
 * The CLI prints `message` as one line and exits with code 2; anything that is
 * not a UserError is a bug and gets a stack trace and exit code 1.
 */
export class UserError extends Error {
  override name = 'UserError';
  readonly exitCode = 2;
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** A plugin's tap threw. Keeps the plugin and hook names so the message says who failed. */
export class PluginError extends Error {
  override name = 'PluginError';
  constructor(readonly plugin: string, readonly hook: string, override readonly cause: unknown) {
    super(`plugin ${plugin} failed in ${hook}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError || (err instanceof Error && err.name === 'UserError');
}
