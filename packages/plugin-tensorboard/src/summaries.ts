/**
 * The Event messages this plugin writes, as plain objects for protobufjs's
 * encoder (field names as in event.proto and summary.proto), and their bytes.
 */
import { EventType, SummaryMetadataType, HParamsPluginDataType, DataType, SessionStatus } from './proto.js';

export type ScalarDtype = 'float' | 'double';

export interface EventObject {
  wall_time: number;
  step: number;
  [field: string]: unknown;
}

export function encodeEvent(event: EventObject): Uint8Array {
  return EventType.encode(event).finish();
}

/** The first event of every file; version 2 makes readers honour SessionLog START. */
export function fileVersionEvent(wallTime: number): EventObject {
  return { wall_time: wallTime, step: 0, file_version: 'brain.Event:2' };
}

/**
 * A restart at `step`: TensorBoard's reader drops every point at or after it
 * that an earlier attempt wrote (EventAccumulator's purge of orphaned data).
 */
export function sessionStartEvent(step: number, wallTime: number): EventObject {
  return { wall_time: wallTime, step, session_log: { status: SessionStatus.START } };
}

const SCALAR_METADATA = { plugin_data: { plugin_name: 'scalars', content: new Uint8Array(0) } };
const TEXT_METADATA = { plugin_data: { plugin_name: 'text', content: new Uint8Array(0) } };

/**
 * One event for all the metrics of a record. `float` is `simple_value`, which every
 * TensorBoard reader shows (its data server keeps scalars as float32); `double` is a
 * DT_DOUBLE scalar tensor, exact but shown only by the Python reader
 * (`--load_fast=false`). `described` holds the tags whose metadata this file already
 * has: TensorFlow's writers, too, send it with a tag's first value only.
 */
export function scalarsEvent(step: number, wallTime: number, metrics: Readonly<Record<string, number>>, dtype: ScalarDtype, described: Set<string>): EventObject {
  const value: object[] = [];
  for (const tag in metrics) {
    const v = metrics[tag]!;
    if (dtype === 'float') {
      value.push({ tag, simple_value: v });
    } else {
      const tensor = { dtype: DataType.DT_DOUBLE, tensor_shape: {}, double_val: [v] };
      if (described.has(tag)) value.push({ tag, tensor });
      else {
        described.add(tag);
        value.push({ tag, metadata: SCALAR_METADATA, tensor });
      }
    }
  }
  return { wall_time: wallTime, step, summary: { value } };
}

/** A text summary (markdown), as TensorBoard's text plugin reads it: a DT_STRING scalar tensor. */
export function textEvent(tag: string, markdown: string, step: number, wallTime: number): EventObject {
  const tensor = { dtype: DataType.DT_STRING, tensor_shape: {}, string_val: [Buffer.from(markdown, 'utf8')] };
  return { wall_time: wallTime, step, summary: { value: [{ tag, metadata: TEXT_METADATA, tensor }] } };
}

export type HParamValue = number | string | boolean;

// As TensorBoard's hparams/metadata.py: the plugin reads the metadata; the tensor is empty.
const NULL_TENSOR = { dtype: DataType.DT_FLOAT, tensor_shape: { dim: [{ size: 0 }] } };
export const SESSION_START_TAG = '_hparams_/session_start_info';
export const SESSION_END_TAG = '_hparams_/session_end_info';

function hparamsEvent(tag: string, pluginData: object, step: number, wallTime: number): EventObject {
  const content = HParamsPluginDataType.encode(HParamsPluginDataType.fromObject({ version: 0, ...pluginData })).finish();
  const metadata = SummaryMetadataType.fromObject({ plugin_data: { plugin_name: 'hparams', content } });
  return { wall_time: wallTime, step, summary: { value: [{ tag, metadata, tensor: NULL_TENSOR }] } };
}

function protoValue(v: HParamValue): object {
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return { stringValue: v };
}

/** HParams session start: the run's hyperparameters, which the HParams dashboard compares across runs. */
export function sessionStartInfoEvent(hparams: Readonly<Record<string, HParamValue>>, startTime: number, step: number, wallTime: number): EventObject {
  const map: Record<string, object> = {};
  for (const [k, v] of Object.entries(hparams)) map[k] = protoValue(v);
  return hparamsEvent(SESSION_START_TAG, { session_start_info: { hparams: map, start_time_secs: startTime } }, step, wallTime);
}

/** HParams session end: the status the dashboard shows (api.proto's Status). */
export function sessionEndInfoEvent(status: number, step: number, wallTime: number): EventObject {
  return hparamsEvent(SESSION_END_TAG, { session_end_info: { status, end_time_secs: wallTime } }, step, wallTime);
}

const BUCKETS = 30;

/** A histogram of `values` (HistogramProto, equal-width buckets between min and max). */
export function histogramEvent(tag: string, values: ArrayLike<number>, step: number, wallTime: number): EventObject {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSquares += v * v;
  }
  const count = values.length;
  const width = (max - min) / BUCKETS;
  const bucket = new Array<number>(width > 0 ? BUCKETS : 1).fill(0);
  const bucketLimit = width > 0 ? bucket.map((_, i) => (i === BUCKETS - 1 ? max : min + width * (i + 1))) : [max];
  for (let i = 0; i < count; i++) {
    const b = width > 0 ? Math.min(BUCKETS - 1, Math.floor((values[i]! - min) / width)) : 0;
    bucket[b]!++;
  }
  const histo = count === 0 ? { min: 0, max: 0, num: 0, sum: 0, sum_squares: 0, bucket_limit: [], bucket: [] } : { min, max, num: count, sum, sum_squares: sumSquares, bucket_limit: bucketLimit, bucket };
  return { wall_time: wallTime, step, summary: { value: [{ tag, histo }] } };
}
