import { mkdtempSync } from 'node:fs'; import { tmpdir } from 'node:os'; import { join } from 'node:path';
import { selectBackend } from '@poke/core';
import { trainerSamplesPerSecond } from './reference.js';
await selectBackend('tensorflow');
const runsDir = mkdtempSync(join(tmpdir(), 'tr-'));
console.log(await trainerSamplesPerSecond({ backend: 'tensorflow', steps: 150, runsDir }));
