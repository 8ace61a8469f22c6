/**
 * Registers every built-in layer with the module registry (registry.ts), so
 * a saved model can be rebuilt. `describeModule`/`buildModule` call
 * `registerBuiltins()` first: an explicit call (not an import for its side
 * effects) keeps the registrations with the code that needs them, whatever a
 * bundler drops.
 */

import {
  Flatten, GELU, Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh,
} from './activations.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';
import { buildModule, describeModule, registerModule, type ModuleSpec } from './registry.js';
import { Sequential } from './sequential.js';

let registered = false;

/** Registers the built-in layers once. */
export function registerBuiltins(): void {
  if (registered) return;
  registered = true;
  registerAll();
}

const num = (c: Record<string, unknown>, k: string, dflt?: number): number => {
  const v = c[k] ?? dflt;
  if (typeof v !== 'number') throw new TypeError(`config.${k} must be a number; got ${JSON.stringify(v)}`);
  return v;
};

function registerAll(): void {
  registerModule('Linear', Linear, {
    config: (m) => ({ inFeatures: m.inFeatures, outFeatures: m.outFeatures, bias: m.bias !== undefined }),
    build: (c) => new Linear(num(c, 'inFeatures'), num(c, 'outFeatures'), { bias: c.bias !== false }),
  });
  registerModule('Sequential', Sequential, {
    config: (m) => ({ layers: m.layers.map(describeModule) }),
    build: (c) => new Sequential(...((c.layers as ModuleSpec[]) ?? []).map(buildModule)),
  });
  registerModule('Dropout', Dropout, { config: (m) => ({ p: m.p }), build: (c) => new Dropout(num(c, 'p', 0.5)) });
  registerModule('ReLU', ReLU, { config: () => ({}), build: () => new ReLU() });
  registerModule('LeakyReLU', LeakyReLU, {
    config: (m) => ({ negativeSlope: m.negativeSlope }),
    build: (c) => new LeakyReLU(num(c, 'negativeSlope', 0.01)),
  });
  registerModule('Sigmoid', Sigmoid, { config: () => ({}), build: () => new Sigmoid() });
  registerModule('Tanh', Tanh, { config: () => ({}), build: () => new Tanh() });
  registerModule('GELU', GELU, {
    config: (m) => ({ approximate: m.approximate }),
    build: (c) => new GELU(c.approximate === 'tanh' ? 'tanh' : 'none'),
  });
  registerModule('SiLU', SiLU, { config: () => ({}), build: () => new SiLU() });
  registerModule('Softmax', Softmax, { config: (m) => ({ axis: m.axis }), build: (c) => new Softmax(num(c, 'axis', -1)) });
  registerModule('LogSoftmax', LogSoftmax, { config: (m) => ({ axis: m.axis }), build: (c) => new LogSoftmax(num(c, 'axis', -1)) });
  registerModule('Flatten', Flatten, {
    config: (m) => ({ startDim: m.startDim, endDim: m.endDim }),
    build: (c) => new Flatten(num(c, 'startDim', 1), num(c, 'endDim', -1)),
  });
  registerModule('Identity', Identity, { config: () => ({}), build: () => new Identity() });
}
