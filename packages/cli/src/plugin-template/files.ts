import type { PluginNames } from './names.js';

/** Versions the new package's manifest asks for: those of the poke that writes it. */
export interface TemplateVersions {
  readonly core: string;
  readonly tsx: string;
  readonly typescript: string;
}

/**
 * The files of a new plugin package, by path. The plugin is small but complete:
 * it tracks the best value of a validation metric, keeps it across resume
 * (`stateKey`), and writes it to the run folder at the end. Its test runs a
 * short training, so `npm test` passes as soon as the files are written.
 */
export function pluginFiles(n: PluginNames, v: TemplateVersions): Record<string, string> {
  return {
    'package.json': packageJson(n, v),
    'tsconfig.json': TSCONFIG,
    'src/schema.ts': SCHEMA,
    'src/index.ts': index(n),
    'test/plugin.test.ts': test(n),
    'README.md': readme(n),
  };
}

function packageJson(n: PluginNames, v: TemplateVersions): string {
  const manifest = {
    name: n.pkg,
    version: '0.1.0',
    description: `A poke plugin: ${n.plugin}`,
    type: 'module',
    // poke loads TypeScript plugins itself, so the source is the entry point.
    exports: './src/index.ts',
    files: ['src'],
    keywords: ['poke', 'poke-plugin'],
    scripts: {
      test: 'node --import tsx --test test/plugin.test.ts',
      typecheck: 'tsc',
    },
    peerDependencies: { '@poke/core': `^${v.core}` },
    devDependencies: {
      '@poke/core': `^${v.core}`,
      '@types/node': '^20.19.0',
      tsx: v.tsx,
      typescript: v.typescript,
    },
  };
  return JSON.stringify(manifest, null, 2) + '\n';
}

const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023'],
      types: ['node'],
      strict: true,
      skipLibCheck: true,
      noEmit: true,
    },
    include: ['src', 'test'],
  },
  null,
  2,
)}\n`;

const SCHEMA = `import { Type, choice, defineOptions, withDefault } from '@poke/core';
import type { OptionsOf, ResolvedOptionsOf } from '@poke/core';

/**
 * The one definition of the options, in TypeBox (as @poke/core exports it):
 * a JSON schema checked when the factory runs (a typo gets a did-you-mean),
 * its defaults filled in, and the TypeScript types below read from it.
 * Adding an option is adding one line here.
 */
export const schema = defineOptions({
  monitor: withDefault(Type.String({ minLength: 1, description: 'validation metric to track' }), 'val_loss'),
  mode: withDefault(choice(['min', 'max'], { description: 'min: lower is better; max: higher is better' }), 'min'),
  file: withDefault(Type.String({ pattern: '^[A-Za-z0-9._-]+$', description: 'file name inside the run folder' }), 'best.json'),
});

/** What a user may pass: every key optional. */
export type Options = OptionsOf<typeof schema>;
/** What the factory works with: defaults filled in. */
export type ResolvedOptions = ResolvedOptionsOf<typeof schema>;
`;

function index(n: PluginNames): string {
  return `import { join } from 'node:path';
import { validatePluginOptions, writeJsonAtomic, isBetter, UserError } from '@poke/core';
import type { PokePlugin, Trainer } from '@poke/core';
import { schema } from './schema.js';
import type { Options } from './schema.js';

/** Names every tap, and this plugin in error messages. */
export const PLUGIN_NAME = '${n.plugin}';
export { schema };
export type { Options };

interface Best {
  monitor: string;
  value: number;
  epoch: number;
  step: number;
}

/** Tracks the best value of a validation metric and writes it to the run folder when the run ends. */
export default function ${n.factory}(options?: Options): PokePlugin {
  // Options are checked once, here; a mistake names the plugin and the option.
  const { monitor, mode, file } = validatePluginOptions(PLUGIN_NAME, schema, options);
  let best: Best | undefined;
  // The core's rule for which way a metric improves, as the built-in plugins use it.
  const improves = (value: number) => best === undefined || isBetter(value, best.value, mode);

  return {
    name: PLUGIN_NAME,
    // A checkpoint plugin saves state() with each checkpoint and hands it back on resume.
    stateKey: PLUGIN_NAME,
    state: () => best ?? null,
    restore: (saved) => {
      best = (saved as Best | null) ?? undefined;
    },
    // apply only taps; the work happens when the hooks fire.
    apply(trainer: Trainer) {
      let runDir = '';
      trainer.hooks.setup.tap(PLUGIN_NAME, (context) => {
        runDir = context.runDir;
        // A typo in monitor would otherwise track nothing, silently.
        const names = trainer.metricNames();
        if (!names.includes(monitor)) {
          throw new UserError(\`plugin \${PLUGIN_NAME}: options.monitor "\${monitor}" is not a metric of this run\`, \`one of: \${names.join(', ')}\`);
        }
      });
      trainer.hooks.afterValidate.tap(PLUGIN_NAME, ({ epoch, globalStep, metrics }) => {
        const value = metrics[monitor];
        if (value !== undefined && improves(value)) best = { monitor, value, epoch, step: globalStep };
      });
      // done fires on completion, interrupt and failure alike.
      trainer.hooks.done.tapPromise(PLUGIN_NAME, async () => {
        if (best) await writeJsonAtomic(join(runDir, file), best);
      });
    },
  };
}
`;
}

function test(n: PluginNames): string {
  return `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trainer, resolveConfig, silentLogger } from '@poke/core';
import type { PokePlugin, UserConfig } from '@poke/core';
import ${n.factory} from '../src/index.js';

/** A short training: synthetic data, a small model, the cpu backend. */
async function train(plugin: PokePlugin) {
  const dir = await mkdtemp(join(tmpdir(), '${n.folder}-'));
  const user: UserConfig = {
    runName: 'test',
    data: { source: 'synthetic', samples: 512 },
    model: { hiddenSizes: [16] },
    train: { epochs: 2, batchSize: 64, backend: 'cpu' },
    plugins: [plugin],
  };
  const { config, plugins } = await resolveConfig({ user, file: undefined, baseDir: dir });
  const summary = await new Trainer(config, { plugins, baseDir: dir, logger: silentLogger }).run();
  return { dir, summary };
}

test('writes the best val_loss of a short training to the run folder', async (t) => {
  const { dir, summary } = await train(${n.factory}());
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.equal(summary.status, 'completed');
  const best = JSON.parse(await readFile(join(summary.runDir, 'best.json'), 'utf8'));
  assert.equal(best.monitor, 'val_loss');
  assert.ok(Number.isFinite(best.value));
  assert.ok(best.epoch === 0 || best.epoch === 1);
});

test('mode max tracks the highest value', async (t) => {
  const { dir, summary } = await train(${n.factory}({ monitor: 'val_accuracy', mode: 'max', file: 'best-accuracy.json' }));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const best = JSON.parse(await readFile(join(summary.runDir, 'best-accuracy.json'), 'utf8'));
  assert.equal(best.monitor, 'val_accuracy');
  assert.ok(best.value >= 0 && best.value <= 1);
});

test('a mistake in the options names the plugin and the option', () => {
  assert.throws(() => ${n.factory}({ mode: 'lowest' } as never), /plugin ${escapeRegExp(n.plugin)}: options\\.mode must be one of "min", "max", got string "lowest"/);
  assert.throws(() => ${n.factory}({ monitr: 'val_loss' } as never), /did you mean "monitor"/);
});
`;
}

/** Package names hold only [a-z0-9._:-]; of those, only "." means something in a RegExp. */
function escapeRegExp(text: string): string {
  return text.replace(/\./g, '\\.');
}

function readme(n: PluginNames): string {
  return `# ${n.pkg}

A poke plugin. It tracks the best value of a validation
metric, keeps it across \`--resume\`, and writes it as JSON to the run folder
when the run ends. Replace it with your own; the layout stays:

| file | what it holds |
|---|---|
| \`src/schema.ts\` | the options, defined once: JSON schema, defaults, and the TypeScript types read from it |
| \`src/index.ts\` | the factory \`(options) => ({ name, apply })\`; \`apply\` only taps hooks |
| \`test/plugin.test.ts\` | a short training with the plugin, and its option errors |

## Use it

\`\`\`sh
npx poke train --plugin ./${n.folder}
npx poke train --plugin ./${n.folder}='{"monitor":"val_accuracy","mode":"max"}'
\`\`\`

or in a \`poke.config.ts\`:

\`\`\`ts
import { defineConfig } from '@poke/core';
import ${n.factory} from './${n.folder}/src/index.ts';

export default defineConfig({ plugins: [${n.factory}({ mode: 'min' })] });
\`\`\`

Once installed (\`npm install ${n.pkg}\`), poke also finds it by name:
\`--plugin ${n.pkg === n.folder ? n.folder.replace(/^poke-plugin-/, '') : n.pkg}\`.

## Options

| option | default | meaning |
|---|---|---|
| \`monitor\` | \`"val_loss"\` | validation metric to track |
| \`mode\` | \`"min"\` | \`min\`: lower is better; \`max\`: higher is better |
| \`file\` | \`"best.json"\` | file name inside the run folder |

## Develop

\`\`\`sh
npm test            # a short training on the cpu backend
npm run typecheck
\`\`\`

Inside a poke project, both run at once: \`@poke/core\`, \`tsx\` and
\`typescript\` resolve from the project's \`node_modules\`. On its own, run
\`npm install\` first.

\`@poke/core\` is a peer dependency: when poke loads this plugin, the plugin
gets the \`@poke/core\` (and TensorFlow.js) of the poke that runs it, never a
copy of its own. See poke's docs/plugins.md for the hooks and the rules.
`;
}
