import { registerData } from './cli.js';

/** Module behind `poke data` (package.json `poke.commands.data`). */
export default registerData;
