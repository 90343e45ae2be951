import { Type } from '@sinclair/typebox';
import { withDefault } from '../plugins/define-options.js';

/** Options every tracker that delivers a spool in the background takes, defined once for all of them. */
export const deliveryOptions = {
  finishTimeout: withDefault(
    Type.Number({ minimum: 0, maximum: 3600, description: 'seconds the end of a run may spend delivering; the rest stays in the spool' }),
    10,
  ),
  requestTimeout: withDefault(Type.Number({ exclusiveMinimum: 0, maximum: 3600, description: 'seconds per request' }), 15),
  maxBackoff: withDefault(Type.Number({ exclusiveMinimum: 0, maximum: 3600, description: 'longest wait between retries, seconds' }), 30),
};
