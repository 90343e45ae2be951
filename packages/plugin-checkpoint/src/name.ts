/** Names every tap of the checkpoint plugin, and the plugin itself in a run's plugin list. */
export const PLUGIN_NAME = 'poke:checkpoint';
