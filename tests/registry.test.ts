/** Every op in the registry has a backward rule or is explicitly non-differentiable. */
import { expect, test } from 'vitest';
import '../src/index.js';
import { OP_REGISTRY } from '../src/autograd.js';

test('every registered op has a backward or is marked nonDifferentiable', () => {
  expect(OP_REGISTRY.size).toBeGreaterThan(10);
  for (const [name, op] of OP_REGISTRY) {
    expect(typeof op.backward === 'function' || op.nonDifferentiable === true, name).toBe(true);
  }
});
