/**
 * Module: the base of every layer and model. A module owns named parameters
 * (the learned weight matrices: `fc1.weight`, `attn.wq`, `conv1.weight`) and
 * child modules, and composes ops in `forward`. No module writes its own
 * backward: autograd does that.
 *
 * Parameters and children are found by looking at the module's own fields, in
 * the order they were assigned (as PyTorch does):
 *
 *   class MLP extends Module {
 *     fc1 = new Linear(784, 256);          // child module  → 'fc1.weight', 'fc1.bias'
 *     fc2 = new Linear(256, 10);
 *     scale = parameter(ones([1]));        // own parameter → 'scale'
 *     forward(x) { return this.fc2.forward(relu(this.fc1.forward(x))); }
 *   }
 *
 * Arrays of modules (and of parameters) are walked too: `layers.0.weight`.
 * Buffers (`buffer(t)`: running statistics and other non-learned state) are
 * listed by `namedBuffers()` and saved with the model, but not trained.
 */

import { Tensor, keep } from '../tensor.js';

const PARAMETERS = new WeakSet<Tensor>();
const BUFFERS = new WeakSet<Tensor>();

/** Marks `t` as a learned parameter: requiresGrad, exempt from tidy scopes. Returns it. */
export function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  PARAMETERS.add(t);
  return keep(t);
}

/** Marks `t` as a module buffer (state saved with the model but not trained). Returns it. */
export function buffer(t: Tensor): Tensor {
  BUFFERS.add(t);
  return keep(t);
}

export function isParameter(t: unknown): t is Tensor {
  return t instanceof Tensor && PARAMETERS.has(t);
}

export abstract class Module {
  /** Training mode (dropout active, batch-norm batch statistics). `train()`/`eval()` switch it for the whole tree. */
  training = true;

  /** The computation. Subclasses implement it with ops; autograd derives the backward. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /** Parameters with their dotted names, depth first in field order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    this.walk(prefix, (name, t) => {
      if (PARAMETERS.has(t)) out.push([name, t]);
    });
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Buffers (non-learned state) with their dotted names. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    this.walk(prefix, (name, t) => {
      if (BUFFERS.has(t)) out.push([name, t]);
    });
    return out;
  }

  /** Child modules with their dotted names (not including this one), depth first. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      const visit = (name: string, v: unknown) => {
        if (v instanceof Module) {
          out.push([name, v]);
          out.push(...v.namedModules(name));
        }
      };
      const name = prefix ? `${prefix}.${key}` : key;
      if (Array.isArray(value)) value.forEach((v, i) => visit(`${name}.${i}`, v));
      else visit(name, value);
    }
    return out;
  }

  /** Total number of learned scalars. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    this.training = mode;
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Zeroes every parameter's gradient (keeping the buffers), lazily as an
   * optimizer's `zeroGrad()` does: the next backward writes over it, and
   * reading `.grad` before that fills it with zeros.
   */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      const g = p.rawGrad;
      if (g !== null && !g.isDisposed) p.gradPendingZero = true;
    }
  }

  /** Frees every parameter and buffer. The module cannot be used afterwards. */
  dispose(): void {
    for (const [, p] of this.namedParameters()) p.dispose();
    for (const [, b] of this.namedBuffers()) b.dispose();
  }

  private walk(prefix: string, fn: (name: string, t: Tensor) => void): void {
    for (const [key, value] of Object.entries(this)) {
      const name = prefix ? `${prefix}.${key}` : key;
      const visit = (n: string, v: unknown) => {
        if (v instanceof Tensor) {
          if (v.name === undefined) v.name = n;
          fn(n, v);
        } else if (v instanceof Module) {
          v.walk(n, fn);
        }
      };
      if (Array.isArray(value)) value.forEach((v, i) => visit(`${name}.${i}`, v));
      else visit(name, value);
    }
  }
}
