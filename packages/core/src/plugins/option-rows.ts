/** One key of an options schema, as docs and commented configs show it. */
export interface OptionRow {
  /** Dotted path: `train.epochs`; `data.*` for the keys an open object passes on. */
  readonly key: string;
  /** Whether the schema fills the key in; `value` is then the default. */
  readonly hasDefault: boolean;
  readonly value?: unknown;
  /** The values an `enum` key accepts. */
  readonly values?: readonly unknown[];
  readonly description?: string;
}

interface Node {
  type?: unknown;
  properties?: Record<string, Node>;
  additionalProperties?: boolean | Node;
  default?: unknown;
  enum?: unknown[];
  description?: string;
}

/**
 * Every key of an options schema, nested objects flattened to dotted paths, in
 * the schema's order: what docs/config.md's key table and `poke init`'s
 * commented config are written from.
 */
export function optionRows(schema: object, prefix = ''): OptionRow[] {
  const rows: OptionRow[] = [];
  const node = schema as Node;
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const key = `${prefix}${name}`;
    if (child.properties) {
      rows.push(...optionRows(child, `${key}.`));
      continue;
    }
    rows.push({
      key,
      hasDefault: 'default' in child,
      ...('default' in child ? { value: child.default } : {}),
      ...(child.enum ? { values: child.enum } : {}),
      ...(child.description ? { description: child.description } : {}),
    });
  }
  const rest = node.additionalProperties;
  if (typeof rest === 'object' && rest.description) rows.push({ key: `${prefix}*`, hasDefault: false, description: rest.description });
  return rows;
}

/** The defaults of an options object, nested objects included (`{ epochs: 5, … }`). */
export function defaultsOf(schema: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, child] of Object.entries((schema as Node).properties ?? {})) {
    if (child.properties) out[name] = defaultsOf(child);
    else if ('default' in child) out[name] = child.default;
  }
  return out;
}
