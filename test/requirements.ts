/**
 * What a test needs from the machine that `npm test` cannot install by itself
 * (a package only root can install, root itself). A suite that lacks it is
 * skipped and listed at the end of the run with the command that enables it
 * (test/setup.ts prints the list); with POKE_REQUIRE_ALL=1, as CI sets, it fails
 * instead, so CI runs everything. No test skips in any other way.
 */
import { createRequire } from 'node:module';
import type { Context, Runnable, Suite } from 'mocha';

export interface Requirement {
  /** What is missing, as a phrase: "/usr/bin/chromium is not installed". */
  missing: string;
  /** The command that enables the suite: "apt-get install chromium". */
  fix: string;
}

export const REQUIRE_ALL = process.env.POKE_REQUIRE_ALL === '1';

/**
 * The suite or test each listed skip covers, and why. Kept on globalThis: mocha loads
 * test/setup.ts through require() and the tests through import(), which give this
 * file two module instances.
 */
const KEY = Symbol.for('poke.test.skipped');
const skipped: Map<Suite | Runnable, Requirement> = ((globalThis as Record<symbol, unknown>)[KEY] ??= new Map()) as Map<Suite | Runnable, Requirement>;

/**
 * Skip the current suite (from a `before` hook) or test (from an `it`) because
 * `requirement` is missing, or fail under POKE_REQUIRE_ALL=1.
 */
export function skipOrFail(ctx: Context, requirement: Requirement): never {
  if (REQUIRE_ALL) {
    throw new Error(`POKE_REQUIRE_ALL=1: ${requirement.missing} (fix: ${requirement.fix})`);
  }
  // mocha sets `type` ('hook' or 'test') on every runnable; its type declarations leave it out.
  const runnable = ctx.test! as Runnable & { type?: string };
  // In a hook, skipping covers the hook's whole suite.
  skipped.set(runnable.type === 'hook' ? runnable.parent! : runnable, requirement);
  ctx.skip();
}

/** The requirement a pending test was skipped for, if it was skipped through skipOrFail. */
export function requirementOf(test: Runnable): { owner: Suite | Runnable; requirement: Requirement } | undefined {
  for (let node: Suite | Runnable | undefined = test; node; node = node.parent) {
    const requirement = skipped.get(node);
    if (requirement) return { owner: node, requirement };
  }
  return undefined;
}

/** Whether the native tensorflow backend's package resolves here (`npm ci` builds it where it can). */
export const NATIVE_TENSORFLOW_INSTALLED = (() => {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

/** Skip the suite when the native backend is missing (or fail under POKE_REQUIRE_ALL=1); `npm run setup-native` builds it and names any missing prerequisite. */
export function requireNativeTensorflow(ctx: Context): void {
  if (!NATIVE_TENSORFLOW_INSTALLED) skipOrFail(ctx, { missing: '@tensorflow/tfjs-node (the native backend) is not installed', fix: 'npm run setup-native' });
}

/**
 * Skip the test when the loaded tensorflow addon lacks poke's tensorDataInto (or fail under
 * POKE_REQUIRE_ALL=1): scripts/build-tfjs-node.sh adds it where the `patch` command is installed
 * and the patch fits the package's sources.
 */
export function requireTensorDataInto(ctx: Context, binding: { tensorDataInto?: unknown }): void {
  if (typeof binding.tensorDataInto !== 'function') skipOrFail(ctx, { missing: 'the tensorflow addon was built without tensorDataInto (no `patch` command, or the patch did not fit; npm run setup-native says which)', fix: 'apt-get install -y patch (as root), then npm run setup-native' });
}
