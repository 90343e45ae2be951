/** JSON schemas for everything this plugin reads back from disk: nothing is trusted unchecked. */

export const CHECKPOINT_ID_PATTERN = '^epoch[0-9]{4,9}-step[0-9]{8,12}$';

const finiteOrNull = { type: ['number', 'null'] } as const;
const shape = { type: 'array', items: { type: 'integer', minimum: 0 }, maxItems: 8 } as const;

export const manifestSchema = {
  type: 'object',
  required: ['format', 'version', 'monitor', 'entries', 'best', 'latest'],
  properties: {
    format: { const: 'poke-checkpoints' },
    version: { const: 1 },
    monitor: {
      type: 'object',
      required: ['name', 'mode'],
      properties: { name: { type: 'string' }, mode: { enum: ['min', 'max'] } },
    },
    entries: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'epoch', 'step', 'timestamp', 'value', 'bytes', 'reason'],
        properties: {
          id: { type: 'string', pattern: CHECKPOINT_ID_PATTERN },
          epoch: { type: 'integer', minimum: 0 },
          step: { type: 'integer', minimum: 0 },
          timestamp: { type: 'string' },
          value: finiteOrNull,
          bytes: { type: 'integer', minimum: 0 },
          reason: { type: 'string' },
        },
      },
    },
    best: { type: ['string', 'null'], pattern: CHECKPOINT_ID_PATTERN },
    latest: { type: ['string', 'null'], pattern: CHECKPOINT_ID_PATTERN },
    deleting: { type: 'array', items: { type: 'string', pattern: CHECKPOINT_ID_PATTERN } },
  },
} as const;

export const CHECKPOINT_FILES = ['model.json', 'weights.bin', 'optimizer.json', 'optimizer.bin', 'state.json'] as const;

/** Written last: a folder that has it is a whole checkpoint, and it holds the others' sizes and checksums. */
export const METADATA_FILE = 'metadata.json';

export const metadataSchema = {
  type: 'object',
  required: ['format', 'version', 'id', 'uid', 'epoch', 'step', 'timestamp', 'files', 'monitor'],
  properties: {
    format: { const: 'poke-checkpoint' },
    version: { enum: [1, 2] },
    id: { type: 'string', pattern: CHECKPOINT_ID_PATTERN },
    uid: { type: 'string' },
    epoch: { type: 'integer', minimum: 0 },
    step: { type: 'integer', minimum: 0 },
    timestamp: { type: 'string' },
    train_loss: finiteOrNull,
    train_accuracy: finiteOrNull,
    val_loss: finiteOrNull,
    val_accuracy: finiteOrNull,
    monitor: {
      type: 'object',
      required: ['name', 'mode', 'value'],
      properties: { name: { type: 'string' }, mode: { enum: ['min', 'max'] }, value: finiteOrNull },
    },
    files: {
      type: 'object',
      required: [...CHECKPOINT_FILES],
      additionalProperties: false,
      properties: Object.fromEntries(
        CHECKPOINT_FILES.map((f) => [
          f,
          {
            type: 'object',
            required: ['bytes'],
            // One checksum: CRC-32C since version 2, sha256 in version 1.
            oneOf: [
              { required: ['crc32c'], properties: { crc32c: {} } },
              { required: ['sha256'], properties: { sha256: {} } },
            ],
            properties: {
              crc32c: { type: 'string', pattern: '^[0-9a-f]{8}$' },
              sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
              bytes: { type: 'integer', minimum: 0 },
            },
          },
        ]),
      ),
    },
  },
  // Version 2 checksums its files with CRC-32C, version 1 with sha256: a file with the other is refused.
  if: { properties: { version: { const: 1 } } },
  then: { properties: { files: { additionalProperties: { required: ['sha256'], properties: { sha256: {} } } } } },
  else: { properties: { files: { additionalProperties: { required: ['crc32c'], properties: { crc32c: {} } } } } },
} as const;

export const modelJsonSchema = {
  type: 'object',
  required: ['modelTopology', 'weightsManifest'],
  properties: {
    modelTopology: { type: 'object' },
    weightsManifest: {
      type: 'array',
      minItems: 1,
      maxItems: 1,
      items: {
        type: 'object',
        required: ['paths', 'weights'],
        properties: {
          paths: { type: 'array', items: { const: 'weights.bin' }, minItems: 1, maxItems: 1 },
          weights: {
            type: 'array',
            items: { type: 'object', required: ['name', 'shape', 'dtype'], properties: { name: { type: 'string' }, shape, dtype: { const: 'float32' } } },
          },
        },
      },
    },
  },
} as const;

export const optimizerJsonSchema = {
  type: 'object',
  required: ['kind', 'iterations', 'accBeta1', 'accBeta2', 'slots'],
  properties: {
    kind: { const: 'adam' },
    iterations: { type: 'integer', minimum: 0 },
    accBeta1: { type: 'number' },
    accBeta2: { type: 'number' },
    slots: { type: 'array', items: { type: 'object', required: ['name', 'shape'], properties: { name: { type: 'string' }, shape } } },
  },
} as const;

const sums = { type: 'object', required: ['loss', 'correct', 'samples'], properties: { loss: { type: 'number' }, correct: { type: 'number' }, samples: { type: 'number' } } };

export const stateSchema = {
  type: 'object',
  required: ['version', 'epoch', 'batch', 'globalStep', 'samplesSeen', 'rng', 'epochSums', 'plugins'],
  properties: {
    version: { const: 1 },
    epoch: { type: 'integer', minimum: 0 },
    batch: { type: 'integer', minimum: 0 },
    globalStep: { type: 'integer', minimum: 0 },
    lastLoggedStep: { type: 'integer', minimum: 0 },
    samplesSeen: { type: 'integer', minimum: 0 },
    rng: { type: 'array', items: { type: 'integer' }, minItems: 4, maxItems: 4 },
    epochSums: sums,
    windowSums: sums,
    plugins: { type: 'object' },
  },
} as const;
