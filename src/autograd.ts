/**
 * Reverse-mode automatic differentiation over a tape.
 *
 * Every op is declared with `defineOp({ name, backward })`, its backward rule
 * next to its forward code (src/ops/*.ts). An op computes its output and
 * passes it through `record(op, out, inputs, saved)`, which links the output
 * to a `GradNode` when grad mode is on and some input requires grad.
 *
 * `backward(loss)` orders the nodes reachable from `loss` topologically and
 * walks them in reverse, calling each op's backward with the output gradient.
 * Gradients of leaves (tensors with `requiresGrad` and no node: parameters)
 * accumulate into `.grad`; gradients of intermediates live only until used.
 * A backward may return its output gradient itself, as a view (add and
 * reshape do: no copy); gradients whose storage is shared are therefore never
 * accumulated into in place — they are summed into a fresh tensor, and a leaf
 * gets its own copy.
 * An op may instead add its gradient straight into the one already pending for
 * an input (`acceptsPrior`; layer norms do, for the residual stream of a
 * pre-norm block): the add pass that would follow is saved.
 * Once a node has run, its saved tensors are freed and the link is cut, so a
 * graph is used once (as in PyTorch without `retain_graph`).
 */

import { ConfigError, ShapeError, ValueError, WasmgradError, fmtShape } from './errors.js';
import { onesLike } from './ops/creation.js';
import { keep, Tensor, empty } from './tensor.js';

export interface GradNode<S = any> {
  readonly op: OpDef<S>;
  readonly inputs: readonly Tensor[];
  /** Whatever the forward kept for the backward (shapes, flags, tensors). */
  readonly saved: S;
  /** Tensors made only for the backward; freed when the node is released. */
  readonly owned: readonly Tensor[];
}

export interface OpDef<S = any> {
  readonly name: string;
  /**
   * Gradients with respect to each input, given the gradient of the output;
   * `null` where `needs[i]` is false (or the input is not differentiable).
   * Returned tensors belong to autograd (they are freed after use).
   */
  readonly backward?: (
    gy: Tensor, node: GradNode<S>, needs: readonly boolean[], prior: readonly (Tensor | null)[], fresh: readonly boolean[],
  ) => (Tensor | null)[];
  /**
   * The backward takes `prior`: for each input, the gradient accumulated for
   * it so far when autograd may write to it (not shared with another pending
   * gradient; a leaf's `.grad`), else null. The backward may add its gradient
   * for input i into prior[i] in place and return prior[i] itself — or, where
   * `fresh[i]`, write it there: prior[i] is then a parameter's `.grad` that an
   * optimizer's zeroGrad() left stale (it stands for zeros). Ops without this
   * flag get empty arrays.
   */
  readonly acceptsPrior?: true;
  /** Set for ops that have no gradient (comparisons, argmax, integer ops). */
  readonly nonDifferentiable?: true;
}

/** Every op defined, by name (a test checks each has a backward or is marked non-differentiable). */
export const OP_REGISTRY = new Map<string, OpDef<any>>();

export function defineOp<S = undefined>(def: OpDef<S>): OpDef<S> {
  if (OP_REGISTRY.has(def.name)) throw new ConfigError(`defineOp: op '${def.name}' is defined twice`);
  if (!def.backward && !def.nonDifferentiable) {
    throw new ConfigError(`defineOp: op '${def.name}' has no backward and is not marked nonDifferentiable`);
  }
  OP_REGISTRY.set(def.name, def);
  return def;
}

// ─── modes ─────────────────────────────────────────────────────────────────

let gradEnabled = true;
let anomaly = false;

/** Whether ops currently record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording the graph (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Turns graph recording on or off globally (prefer `noGrad(fn)`). */
export function setGradEnabled(on: boolean): void {
  gradEnabled = on;
}

/** Raised in anomaly mode by the first op whose output is NaN or ±Infinity. */
export class AnomalyError extends WasmgradError {}

/**
 * Anomaly mode: every op checks its output (forward) and every backward checks
 * the gradients it produces, and throws `AnomalyError` naming the first op that
 * makes a NaN or ±Infinity. Slow; for debugging.
 */
export function setAnomalyMode(on: boolean): void {
  anomaly = on;
}

export function isAnomalyMode(): boolean {
  return anomaly;
}

function checkFinite(t: Tensor, what: string): void {
  if (t.dtype !== 'float32') return;
  const h = t.backend.heap.f32;
  const p = t.ptr >>> 2;
  for (let i = 0; i < t.size; i++) {
    const v = h[p + i];
    if (v !== v || v === Infinity || v === -Infinity) {
      throw new AnomalyError(`anomaly: ${what} produced ${v} at flat index ${i} of ${fmtShape(t.shape)}`);
    }
  }
}

// ─── recording ─────────────────────────────────────────────────────────────

/**
 * Called by every op with its fresh output. Links `out` to the graph when grad
 * mode is on and an input requires grad; otherwise frees `owned` at once.
 */
export function record<S>(op: OpDef<S>, out: Tensor, inputs: readonly Tensor[], saved: S, owned: Tensor[] = []): Tensor {
  if (anomaly) checkFinite(out, `op '${op.name}' (forward)`);
  if (gradEnabled && !op.nonDifferentiable) {
    for (const x of inputs) {
      if (x.requiresGrad) {
        out.requiresGrad = true;
        out.node = { op, inputs, saved, owned };
        return out;
      }
    }
  }
  for (const t of owned) t.dispose();
  return out;
}

function releaseNode(t: Tensor): void {
  const node = t.node;
  if (node === null) return;
  for (const o of node.owned) o.dispose();
  t.node = null;
}

// ─── backward ──────────────────────────────────────────────────────────────

function topoOrder(root: Tensor): Tensor[] {
  // Iterative DFS (graphs of unrolled RNNs are deep): post-order of nodes.
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node!.inputs;
    if (i < inputs.length) {
      top[1]++;
      const x = inputs[i];
      if (x.node !== null && x.requiresGrad && !visited.has(x)) {
        visited.add(x);
        stack.push([x, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** acc += g, in place (same shape). */
function accumulate(acc: Tensor, g: Tensor): void {
  acc.backend.k.add_f32(acc.ptr, acc.ptr, g.ptr, acc.size);
}

export interface BackwardOptions {
  /** Keep the graph (saved tensors and links) for another backward. Default false. */
  retainGraph?: boolean;
}

/**
 * Computes the gradient of `root` with respect to every leaf tensor that
 * requires grad and accumulates it into their `.grad`.
 *
 * @param gradient  d(something)/d(root); required unless root has one element (then 1).
 */
export function backward(root: Tensor, gradient?: Tensor, options: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new ValueError(
      `backward: tensor ${root.describe()} does not require grad; ` +
        `hint: no input of the computation had requiresGrad (or it ran inside noGrad)`,
    );
  }
  if (gradient === undefined && root.size !== 1) {
    throw new ShapeError(
      `backward: called on a non-scalar tensor ${fmtShape(root.shape)} without a gradient; ` +
        `hint: reduce it to a scalar (e.g. mean()) or pass backward(gradient) of the same shape`,
    );
  }
  if (gradient !== undefined && gradient.shape.join() !== root.shape.join()) {
    throw new ShapeError(
      `backward: gradient shape ${fmtShape(gradient.shape)} differs from the tensor's ${fmtShape(root.shape)}`,
    );
  }
  const grads = new Map<Tensor, Tensor>();
  const seed = gradient === undefined ? onesLike(root) : copyOf(gradient);
  const retain = options.retainGraph === true;

  if (root.node === null) {
    // A leaf: its gradient is the seed.
    accumulateLeaf(root, seed);
    return;
  }
  grads.set(root, seed);
  const order = topoOrder(root);
  for (let idx = order.length - 1; idx >= 0; idx--) {
    const t = order[idx];
    const node = t.node!;
    const gy = grads.get(t);
    grads.delete(t);
    if (gy !== undefined) {
      const needs = node.inputs.map((x) => x.requiresGrad);
      const accepts = node.op.acceptsPrior === true;
      const prior = accepts ? priorGrads(node.inputs, needs, grads) : NO_PRIOR;
      const fresh = accepts ? node.inputs.map((x, i) => prior[i] !== null && x.gradPendingZero) : NO_FRESH;
      const gins = node.op.backward!(gy, node, needs, prior, fresh);
      gy.dispose();
      for (let i = 0; i < node.inputs.length; i++) {
        const g = gins[i];
        if (g == null) continue;
        const x = node.inputs[i];
        if (accepts && g === prior[i]) {
          // Added into x's pending gradient (or .grad) in place by the op, or written there (fresh).
          if (fresh[i]) x.gradPendingZero = false;
          if (anomaly) checkFinite(g, `op '${node.op.name}' (backward, input ${i})`);
          continue;
        }
        if (!needs[i]) {
          g.dispose();
          continue;
        }
        if (anomaly) checkFinite(g, `op '${node.op.name}' (backward, input ${i})`);
        if (!sameDims(g.shape, x.shape)) {
          throw new ShapeError(
            `backward: op '${node.op.name}' returned a gradient of shape ${fmtShape(g.shape)} for input ${i} ` +
              `of shape ${fmtShape(x.shape)} (internal error)`,
          );
        }
        if (x.node === null) {
          accumulateLeaf(x, g);
        } else {
          const prev = grads.get(x);
          if (prev === undefined) grads.set(x, g);
          else if (prev.sharesStorage) {
            // prev is a view another pending gradient shares (an op passed gy
            // through to several inputs): sum out of place.
            const sum = empty(prev.shape, { backend: prev.backend });
            sum.backend.k.add_f32(sum.ptr, prev.ptr, g.ptr, sum.size);
            prev.dispose();
            g.dispose();
            grads.set(x, sum);
          } else {
            accumulate(prev, g);
            g.dispose();
          }
        }
      }
    }
    if (!retain) releaseNode(t);
  }
  for (const g of grads.values()) g.dispose();
}

/** What ops without `acceptsPrior` get (they never read them). */
const NO_PRIOR: readonly (Tensor | null)[] = [];
const NO_FRESH: readonly boolean[] = [];

/**
 * For an op with `acceptsPrior`: each input's gradient so far, where the op
 * may add to it in place — a pending gradient no other tensor shares, or a
 * leaf's `.grad` (which accumulate() adds to in place anyway; when stale
 * after zeroGrad, the op writes it instead: see `fresh`). Null where the
 * input is not needed, occurs twice among the inputs, or has none yet.
 */
function priorGrads(inputs: readonly Tensor[], needs: readonly boolean[], grads: Map<Tensor, Tensor>): (Tensor | null)[] {
  return inputs.map((x, i) => {
    if (!needs[i] || inputs.indexOf(x) !== i || inputs.lastIndexOf(x) !== i) return null;
    if (x.node === null) {
      const g = x.rawGrad;
      return g !== null && !g.isDisposed && sameDims(g.shape, x.shape) ? g : null;
    }
    const prev = grads.get(x);
    return prev !== undefined && !prev.sharesStorage ? prev : null;
  });
}

function copyOf(t: Tensor): Tensor {
  const c = empty(t.shape, { backend: t.backend });
  t.backend.k.copy_f32(c.ptr, t.ptr, t.size);
  return c;
}

function accumulateLeaf(x: Tensor, g: Tensor): void {
  const cur = x.rawGrad;
  if (x.gradPendingZero && cur !== null && !cur.isDisposed && sameDims(cur.shape, g.shape)) {
    // .grad is stale after zeroGrad: the first gradient is copied in (no fill, no add).
    x.backend.k.copy_f32(cur.ptr, g.ptr, g.size);
    x.gradPendingZero = false;
    g.dispose();
    return;
  }
  if (x.grad === null || x.grad.isDisposed) {
    if (g.sharesStorage) {
      // A view of a gradient still in use elsewhere: .grad gets its own copy.
      const c = copyOf(g);
      g.dispose();
      g = c;
    }
    g.name = x.name !== undefined ? `${x.name}.grad` : undefined;
    x.grad = keep(g);
  } else {
    accumulate(x.grad, g);
    g.dispose();
  }
}
