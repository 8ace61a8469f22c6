/**
 * The README's "Train a model in five minutes" code, run as written (imports
 * from 'wasmgrad' bound to this package's source), on every backend: what the
 * README promises in its comments (XOR learned, accuracy 1, the parameter
 * names and shapes it prints) must stay true.
 */
import { describe, expect, it } from 'vitest';
import * as wasmgrad from '../src/index.js';
import readme from '../README.md?raw';
import { EACH_BACKEND } from './helpers.js';

/** The ```js blocks of one README section, in order. */
function jsBlocks(section: string): string[] {
  const start = readme.indexOf(`## ${section}`);
  expect(start, `README section "${section}"`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 3);
  const text = readme.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** `import { a, b } from 'wasmgrad';` → `const { a, b } = wasmgrad;` (blocks share one scope). */
function bindImports(code: string): string {
  return code.replace(/import\s*\{([^}]*)\}\s*from\s*'wasmgrad';/g, 'const {$1} = wasmgrad;');
}

describe.each(EACH_BACKEND)('README quick start (%s)', (name) => {
  it('trains XOR to accuracy 1 and names the parameters as printed', async () => {
    const blocks = jsBlocks('Train a model in five minutes');
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const logged: unknown[][] = [];
    const console = { log: (...args: unknown[]) => logged.push(args) };
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    // init() with no argument picks the best backend; pin the one under test.
    const code = bindImports(blocks.join('\n')).replace('await init();', `await init({ backend: '${name}' });`);
    await new AsyncFunction('wasmgrad', 'console', code)(wasmgrad, console);
    expect(wasmgrad.getBackend()).toBe(name);
    const [[evaluation], [logits], [names]] = logged as [[{ loss: number; accuracy: number }], [number[][]], [string[]]];
    expect(evaluation.accuracy).toBe(1);
    expect(evaluation.loss).toBeLessThan(0.01);
    expect(logits.map((row) => (row[1] > row[0] ? 1 : 0))).toEqual([0, 1, 1, 0]);
    // The README prints: [ '0.weight 2,8', '0.bias 8', '2.weight 8,2', '2.bias 2' ]
    const printed = /\/\/ \[ ('[^\]]*') \]/.exec(blocks[0])![1].split(', ').map((s) => s.slice(1, -1));
    expect(names).toEqual(printed);
  });
});
