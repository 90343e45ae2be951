import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';

/** O_APPEND in /proc/self/fdinfo's octal `flags:` line. */
const O_APPEND = 0o2000;

/**
 * Where fd 2 can be reopened after a detour: its path under /proc (Linux) when
 * reopening reaches the same place. A terminal or a pipe is the same one; a file
 * only when it was opened for append, since a reopened file gets its own offset
 * and would overwrite what stdout (`> log 2>&1`) writes there. Sockets cannot be
 * reopened. Undefined when any of that is unknown.
 */
function reopenableStderr(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    // The detour relies on "the lowest free descriptor" being 2: 0 and 1 must be open.
    fstatSync(0);
    fstatSync(1);
    const stat = fstatSync(2);
    if (stat.isSocket()) return undefined;
    if (stat.isFile()) {
      const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync('/proc/self/fdinfo/2', 'utf8'));
      if (!flags || (parseInt(flags[1]!, 8) & O_APPEND) === 0) return undefined;
    }
    return '/proc/self/fd/2';
  } catch {
    return undefined;
  }
}

/**
 * Run `load` (a synchronous require of a native module) with file descriptor 2
 * pointing at /dev/null, then put it back. libtensorflow's static initialisers
 * write start-up chatter (absl's "All log messages before absl::InitializeLog()
 * is called are written to STDERR", the oneDNN notice) straight to fd 2 while it
 * loads, before TensorFlow reads TF_CPP_MIN_LOG_LEVEL, so the variable alone does
 * not stop them (TensorFlow 2.21). Node offers no dup2, so fd 2 is closed and
 * reopened: when that would not reach the same place, `load` runs as it is.
 */
export function loadWithoutStderr<T>(load: () => T): T {
  const path = reopenableStderr();
  if (!path) return load();
  let saved: number;
  try {
    saved = openSync(path, 'a');
  } catch {
    return load();
  }
  closeSync(2);
  const sink = openSync('/dev/null', 'w');
  try {
    return load();
  } finally {
    closeSync(sink);
    const restored = openSync(`/proc/self/fd/${saved}`, 'a');
    closeSync(saved);
    if (restored !== 2) throw new Error(`could not restore stderr after loading TensorFlow (got fd ${restored})`);
  }
}
