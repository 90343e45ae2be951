import * as tf from '@tensorflow/tfjs-core';
import { typeAttr } from './native-ops.js';
import type { NativeBackend } from './native-ops.js';

const KERNEL = 'PokeNativeReluGrad';

let installed = false;

/**
 * ReLU's gradient as TensorFlow's own ReluGrad op on the tensorflow backend.
 * tfjs differentiates ReLU as dy · step(x), and tfjs-node builds step from
 * IsNan, Greater, two Fills and two Selects: seven kernels and three
 * temporaries per layer and step where ReluGrad is one. The values are the
 * same except for the sign of a zero (dy · 0 is −0 where dy < 0) and a NaN
 * input (gradient 0 rather than NaN, where the loss is NaN anyway). Other
 * backends keep tfjs's gradient.
 */
export function useNativeReluGrad(): void {
  if (installed) return;
  installed = true;
  tf.registerKernel({
    kernelName: KERNEL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const native = backend as unknown as NativeBackend;
      return native.executeSingleOutput('ReluGrad', [typeAttr(native, 'T')], [inputs.dy!, inputs.x!]);
    },
  });
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as tf.Tensor[];
      const native = tf.getBackend() === 'tensorflow' && x!.dtype === 'float32';
      return {
        x: () => (native ? (tf.engine().runKernel(KERNEL, { dy: dy as tf.Tensor, x: x! }) as tf.Tensor) : tf.mul(dy as tf.Tensor, tf.cast(tf.step(x!), 'float32'))),
      };
    },
  });
}
