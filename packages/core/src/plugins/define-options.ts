import { Type, CloneType } from '@sinclair/typebox';
import type { ObjectOptions, SchemaOptions, Static, TArray, TObject, TOptional, TProperties, TSchema, TUnsafe } from '@sinclair/typebox';

/**
 * Options are defined once, as a TypeBox schema: it is the JSON schema that
 * `validatePluginOptions` checks (ajv fills in the defaults), it holds the
 * defaults and the descriptions, and it yields both TypeScript types:
 * `OptionsOf` (what a user writes) and `ResolvedOptionsOf` (what validation returns).
 */

/**
 * TypeBox, re-exported: a plugin outside this repository builds its schema with
 * the copy the core reads, so the types line up and it needs no TypeBox of its own.
 */
export { Type };
export type { TSchema };

declare const DEFAULTED: unique symbol;

/** A key with a default: optional to a user, always present once validated. */
export type TDefault<T extends TSchema> = TOptional<T> & { readonly default: Static<T>; readonly [DEFAULTED]: T };

/** An options object: a typo in a key is refused (with a did-you-mean), never ignored. */
export function defineOptions<P extends TProperties>(properties: P, options: ObjectOptions = {}): TObject<P> {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/** `schema`, filled in with `value` when left out; the value is checked against the schema's type. */
export function withDefault<T extends TSchema>(schema: T, value: Static<T>): TDefault<T> {
  return Type.Optional(CloneType(schema, { default: value })) as unknown as TDefault<T>;
}

/**
 * One of a few literal values, as a plain JSON-schema `enum`, so a mistake reads
 * `must be one of "min", "max", got …` with a did-you-mean.
 */
export function choice<const V extends readonly (string | number | boolean)[]>(values: V, options: SchemaOptions = {}): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ ...options, enum: [...values] });
}

/** What a user may pass: keys with a default, and keys marked optional, may be left out. */
export type OptionsOf<T extends TSchema> = Static<T>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type DefaultedKeys<P extends TProperties> = { [K in keyof P]: P[K] extends { readonly [DEFAULTED]: TSchema } ? K : never }[keyof P];
type OptionalKeys<P extends TProperties> = { [K in keyof P]: P[K] extends TOptional<TSchema> ? K : never }[keyof P];
type Inner<S> = S extends { readonly [DEFAULTED]: infer I extends TSchema } ? I : S;

/** What validation returns: keys with a default are always there, inside nested objects too. */
export type ResolvedOptionsOf<T extends TSchema> =
  T extends TObject<infer P>
    ? Simplify<
        { [K in DefaultedKeys<P>]-?: ResolvedOptionsOf<Inner<P[K]>> } & {
          [K in Exclude<keyof P, OptionalKeys<P>>]: ResolvedOptionsOf<P[K]>;
        } & { [K in Exclude<OptionalKeys<P>, DefaultedKeys<P>>]?: Static<P[K]> }
      >
    : T extends TArray<infer I>
      ? ResolvedOptionsOf<I>[]
      : Static<T>;
