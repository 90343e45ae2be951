/**
 * The TypeScript type a plugin's options schema describes, so the schema is the
 * one definition of the options: it yields the type (`OptionsOf`), the JSON
 * schema that `validatePluginOptions` checks, and the defaults it fills in
 * (`ResolvedOptionsOf`). Declare the schema `as const`.
 *
 * Covers what option schemas use: object, array, string, number, integer,
 * boolean, enum, const; anything else types as `unknown`.
 */

type Schema = { readonly [key: string]: unknown };

type Properties<S> = S extends { readonly properties: infer P } ? P : {};
type Required<S> = S extends { readonly required: readonly (infer K)[] } ? K : never;
type WithDefault<P> = { [K in keyof P]: P[K] extends { readonly default: unknown } ? K : never }[keyof P];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The value one schema node accepts. */
export type ValueOf<S> = S extends { readonly const: infer C }
  ? C
  : S extends { readonly enum: readonly (infer E)[] }
    ? E
    : S extends { readonly type: 'string' }
      ? string
      : S extends { readonly type: 'number' | 'integer' }
        ? number
        : S extends { readonly type: 'boolean' }
          ? boolean
          : S extends { readonly type: 'array'; readonly items: infer I }
            ? ValueOf<I>[]
            : S extends { readonly type: 'object'; readonly properties: Schema }
              ? OptionsOf<S>
              : unknown;

/** What a user may pass: every key optional unless the schema lists it in `required`. */
export type OptionsOf<S> = Simplify<
  { -readonly [K in keyof Properties<S> & Required<S>]: ValueOf<Properties<S>[K]> } & {
    -readonly [K in Exclude<keyof Properties<S>, Required<S>>]?: ValueOf<Properties<S>[K]>;
  }
>;

/** What `validatePluginOptions` returns: keys with a `default` are always there. */
export type ResolvedOptionsOf<S> = Simplify<
  OptionsOf<S> & { -readonly [K in WithDefault<Properties<S>> & keyof Properties<S>]-?: ValueOf<Properties<S>[K]> }
>;
