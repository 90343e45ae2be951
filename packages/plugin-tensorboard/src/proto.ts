/**
 * TensorBoard's message types, read at start-up from the .proto files this package
 * ships in proto/ (copied unchanged from the tensorflow/tensorboard repository, see
 * README.md). protobufjs compiles an encoder and decoder for each type on first use.
 */
import { fileURLToPath } from 'node:url';
import { isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';

const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));

const FILES = ['tensorboard/compat/proto/event.proto', 'tensorboard/plugins/hparams/plugin_data.proto'];

function load(): protobuf.Root {
  const root = new protobuf.Root();
  // Imports are written from the repository's root (`tensorboard/compat/proto/...`);
  // google/protobuf/*.proto come with protobufjs.
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') || isAbsolute(target) ? target : join(PROTO_DIR, target));
  root.loadSync(FILES.map((f) => join(PROTO_DIR, f)), { keepCase: true });
  root.resolveAll();
  return root;
}

const root = load();

export const EventType = root.lookupType('tensorboard.Event');
export const SummaryMetadataType = root.lookupType('tensorboard.SummaryMetadata');
export const HParamsPluginDataType = root.lookupType('tensorboard.hparams.HParamsPluginData');

/** tensorboard.DataType values used here (types.proto). */
export const DataType = { DT_FLOAT: 1, DT_DOUBLE: 2, DT_STRING: 7 } as const;
/** tensorboard.SessionLog.SessionStatus (event.proto). */
export const SessionStatus = { START: 1 } as const;
/** tensorboard.hparams.Status (api.proto). */
export const HParamsStatus = { STATUS_UNKNOWN: 0, STATUS_SUCCESS: 1, STATUS_FAILURE: 2 } as const;
