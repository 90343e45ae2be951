/**
 * Mocha global fixtures for `npm test` and `npm run test:chaos` (.mocharc.json
 * requires this file): the run ends with the list of suites skipped for a missing
 * requirement and the command that enables each, and fails if a test was skipped
 * any other way (it.skip, xit, a bare this.skip()). It removes the temp folders the
 * tests made (test/temp-dirs.ts) when every test passed, and keeps them otherwise.
 */
import { rmSync } from 'node:fs';
import type { Runner, Runnable, Suite } from 'mocha';
import { requirementOf, type Requirement } from './requirements.js';
import { madeTempDirs } from './temp-dirs.js';

interface Listed {
  title: string;
  tests: number;
  requirement: Requirement;
}

const listed = new Map<Suite | Runnable, Listed>();
const unexplained: string[] = [];
let failures = 0;

export function mochaGlobalSetup(this: Runner): void {
  this.on('fail', () => void failures++);
  this.on('pending', (test: Runnable) => {
    const found = requirementOf(test);
    if (!found) {
      unexplained.push(test.fullTitle());
      return;
    }
    const entry = listed.get(found.owner) ?? { title: found.owner.fullTitle(), tests: 0, requirement: found.requirement };
    entry.tests++;
    listed.set(found.owner, entry);
  });
}

export function mochaGlobalTeardown(): void {
  removeTempDirs();
  if (listed.size > 0) {
    console.log(`\nSkipped, for something npm test cannot install itself (POKE_REQUIRE_ALL=1 makes each a failure):`);
    for (const { title, tests, requirement } of listed.values()) {
      console.log(`  - ${title} (${tests} test${tests === 1 ? '' : 's'}): ${requirement.missing}`);
      console.log(`      enable with: ${requirement.fix}`);
    }
  }
  if (unexplained.length > 0) {
    throw new Error(
      `${unexplained.length} test(s) skipped without a listed requirement (only test/requirements.ts's skipOrFail may skip):\n` +
        unexplained.map((t) => `  ${t}`).join('\n'),
    );
  }
}

function removeTempDirs(): void {
  if (madeTempDirs.size === 0) return;
  if (failures > 0 || process.env.POKE_KEEP_TEST_DIRS === '1') {
    console.log(`\nKept the ${madeTempDirs.size} temp folders the tests made (poke-* in the system's temp folder); a passing run without POKE_KEEP_TEST_DIRS=1 removes them.`);
    return;
  }
  for (const dir of madeTempDirs) rmSync(dir, { recursive: true, force: true });
  madeTempDirs.clear();
}
