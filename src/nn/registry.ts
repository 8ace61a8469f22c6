/**
 * Module descriptions: how a saved model remembers its architecture.
 *
 * Every layer type is registered under a name with a way to read its
 * constructor configuration and to build it again from that configuration:
 *
 *   describeModule(new Linear(3, 2))  →  { type: 'Linear', config: { inFeatures: 3, outFeatures: 2, bias: true } }
 *   buildModule({ type: 'Linear', config: … })  →  a new Linear(3, 2) (fresh weights; loading fills them)
 *
 * Containers describe their children recursively (Sequential's config holds
 * the specs of its layers). A user's own Module subclass joins by calling
 * `registerModule('MyBlock', MyBlock, { config, build })`.
 */

import { ConfigError } from '../errors.js';
import { registerBuiltins } from './builtin.js';
import type { Module } from './module.js';

/** A JSON-serialisable description of a module (and, for containers, its children). */
export interface ModuleSpec {
  type: string;
  config: Record<string, unknown>;
}

export interface ModuleCodec<M extends Module> {
  /** The constructor arguments, as plain JSON (children as ModuleSpecs via `describeModule`). */
  config(m: M): Record<string, unknown>;
  /** A new module from `config` (children via `buildModule`). */
  build(config: Record<string, unknown>): M;
}

type AnyCtor = abstract new (...args: never[]) => Module;

const byName = new Map<string, { ctor: AnyCtor; codec: ModuleCodec<Module> }>();
const byCtor = new Map<AnyCtor, string>();

/** Registers a module type for saving and loading models. Re-registering a name replaces it. */
export function registerModule<M extends Module>(name: string, ctor: abstract new (...args: never[]) => M, codec: ModuleCodec<M>): void {
  byName.set(name, { ctor, codec: codec as unknown as ModuleCodec<Module> });
  byCtor.set(ctor, name);
}

/** The registered names, for error messages and documentation. */
export function registeredModules(): string[] {
  registerBuiltins();
  return [...byName.keys()].sort();
}

/** The name a module class is registered under, or undefined (e.g. to check that every layer class is registered). */
export function registeredName(ctor: abstract new (...args: never[]) => Module): string | undefined {
  registerBuiltins();
  return byCtor.get(ctor);
}

/** The description of `m` (recursively for containers). */
export function describeModule(m: Module): ModuleSpec {
  registerBuiltins();
  const name = byCtor.get(m.constructor as AnyCtor);
  if (name === undefined) {
    throw new ConfigError(
      `describeModule: ${m.constructor.name} is not registered, so a saved model could not rebuild it; ` +
        `hint: registerModule('${m.constructor.name}', ${m.constructor.name}, { config, build })`,
    );
  }
  return { type: name, config: byName.get(name)!.codec.config(m) };
}

/** A new module from a description (weights freshly initialised). */
export function buildModule(spec: ModuleSpec): Module {
  registerBuiltins();
  if (spec === null || typeof spec !== 'object' || typeof spec.type !== 'string') {
    throw new ConfigError(`buildModule: expected { type, config }; got ${JSON.stringify(spec)?.slice(0, 80)}`);
  }
  const entry = byName.get(spec.type);
  if (!entry) {
    throw new ConfigError(`buildModule: unknown module type '${spec.type}'; registered: ${registeredModules().join(', ')}`);
  }
  return entry.codec.build(spec.config ?? {});
}
