import { UserError } from '../errors.js';

/**
 * How a shard stores its features. Battle features are mostly one-hot flags and
 * small integers, so most of float32's 4 bytes are wasted:
 *
 * - `float32`: as they are (the default; `index.json` then has no `encoding`).
 * - `float16`: IEEE 754 half precision, rounded to nearest even; decoded to the
 *   float32 of that half exactly. Integers up to 2048 and flags are exact.
 * - `uint8`: per feature f, a byte q with value `offset[f] + scale[f] * q`.
 *   A feature whose values are integers spanning at most 255 gets scale 1 and
 *   is exact; any other is quantised to 256 levels between its min and max.
 */
export type FeatureEncoding = { readonly type: 'float32' } | { readonly type: 'float16' } | { readonly type: 'uint8'; readonly offset: number[]; readonly scale: number[] };

export type EncodingName = FeatureEncoding['type'];
/** The encodings that store features in fewer bytes than float32 and are decoded when read. */
export type CompactEncoding = Exclude<FeatureEncoding, { readonly type: 'float32' }>;
export const ENCODINGS: readonly EncodingName[] = ['float32', 'float16', 'uint8'];

export const featureEncodingSchema = {
  oneOf: [
    { type: 'object', additionalProperties: false, required: ['type'], properties: { type: { enum: ['float32', 'float16'] } } },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'offset', 'scale'],
      properties: {
        type: { const: 'uint8' },
        offset: { type: 'array', items: { type: 'number' } },
        scale: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 } },
      },
    },
  ],
} as const;

/** Bytes one sample's features take on disk. */
export function featureBytes(encoding: FeatureEncoding | undefined, featureSize: number): number {
  return featureSize * (encoding?.type === 'float16' ? 2 : encoding?.type === 'uint8' ? 1 : 4);
}

/** The encoding named `name`, fitted to `features` (uint8 needs each feature's range). */
export function fitEncoding(name: EncodingName, features: Float32Array, featureSize: number): FeatureEncoding {
  if (name === 'float16') refuseBeyondHalf(features, featureSize);
  if (name !== 'uint8') return { type: name };
  const min = new Float64Array(featureSize).fill(Infinity);
  const max = new Float64Array(featureSize).fill(-Infinity);
  const integral = new Uint8Array(featureSize).fill(1);
  for (let i = 0; i < features.length; i++) {
    const f = i % featureSize;
    const x = features[i]!;
    if (x < min[f]!) min[f] = x;
    if (x > max[f]!) max[f] = x;
    if (!Number.isInteger(x)) integral[f] = 0;
  }
  const offset: number[] = [];
  const scale: number[] = [];
  for (let f = 0; f < featureSize; f++) {
    const lo = Number.isFinite(min[f]!) ? min[f]! : 0;
    const span = Number.isFinite(max[f]!) ? max[f]! - lo : 0;
    offset.push(lo);
    scale.push(integral[f] && span <= 255 ? 1 : span > 0 ? span / 255 : 1);
  }
  return { type: 'uint8', offset, scale };
}

/** Values from 65520 on round to infinity in float16, which no reader takes. */
function refuseBeyondHalf(features: Float32Array, featureSize: number): void {
  for (let i = 0; i < features.length; i++) {
    if (Math.abs(features[i]!) >= HALF_OVERFLOW) {
      throw new UserError(
        `float16 holds values up to 65504; sample ${Math.floor(i / featureSize)} has ${features[i]} at feature ${i % featureSize}`,
        'store these features as float32, or as uint8 (each feature scaled to its own range)',
      );
    }
  }
}

const HALF_OVERFLOW = 65520;

export function encodeFeatures(features: Float32Array, featureSize: number, encoding: FeatureEncoding): Uint8Array {
  if (encoding.type === 'float32') return new Uint8Array(features.buffer, features.byteOffset, features.byteLength);
  if (encoding.type === 'float16') {
    const out = new Uint16Array(features.length);
    for (let i = 0; i < features.length; i++) out[i] = toHalf(features[i]!);
    return new Uint8Array(out.buffer);
  }
  const out = new Uint8Array(features.length);
  for (let i = 0; i < features.length; i++) {
    const f = i % featureSize;
    out[i] = Math.min(255, Math.max(0, Math.round((features[i]! - encoding.offset[f]!) / encoding.scale[f]!)));
  }
  return out;
}

/**
 * Decode the compact feature values in `bytes` into `out` from value `first` on. A
 * shard is decoded a piece at a time: `first` places the piece, and tells uint8
 * which feature's offset and scale each value takes.
 */
export function decodeFeaturesInto(bytes: Uint8Array, out: Float32Array, first: number, featureSize: number, encoding: CompactEncoding): void {
  if (encoding.type === 'float16') {
    const table = halfTable();
    const count = bytes.length >> 1;
    for (let i = 0; i < count; i++) out[first + i] = table[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
    return;
  }
  const { offset, scale } = encoding;
  for (let i = 0, f = first % featureSize; i < bytes.length; i++, f = f + 1 === featureSize ? 0 : f + 1) {
    out[first + i] = offset[f]! + scale[f]! * bytes[i]!;
  }
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** float32 → IEEE 754 half, rounded to nearest even; overflow to ±Infinity, NaN kept. */
function toHalf(x: number): number {
  scratch[0] = x;
  const bits = scratchBits[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa moves into the exponent, which is the correct rounding.
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

let table: Float32Array | undefined;

/** Every half's float32 value, by its 16 bits. */
function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    table[h] = exponent === 0 ? sign * mantissa * 2 ** -24 : exponent === 0x1f ? (mantissa ? NaN : sign * Infinity) : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return table;
}
