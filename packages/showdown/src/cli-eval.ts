import { registerEval } from './cli.js';

/** Module behind `poke eval` (package.json `poke.commands.eval`). */
export default registerEval;
