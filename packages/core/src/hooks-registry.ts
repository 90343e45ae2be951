/** Hooks that one owner (a trainer) carries for a plugin that publishes them. */
export interface HooksRegistry<Owner extends object, Hooks> {
  /** The hooks of `owner`, created on first use. */
  get(owner: Owner): Hooks;
}

/**
 * A registry for hooks a plugin offers other plugins (webpack's
 * `createHooksRegistry`): the hooks belong to the owner, are created on first
 * use by whichever plugin asks first, and go away with the owner. Another
 * plugin taps them whether or not the publishing plugin has applied yet, and
 * imports nothing of it beyond the registry.
 */
export function createHooksRegistry<Owner extends object, Hooks>(create: (owner: Owner) => Hooks): HooksRegistry<Owner, Hooks> {
  const byOwner = new WeakMap<Owner, Hooks>();
  return Object.freeze({
    get(owner: Owner): Hooks {
      let hooks = byOwner.get(owner);
      if (hooks === undefined) {
        hooks = create(owner);
        byOwner.set(owner, hooks);
      }
      return hooks;
    },
  });
}
