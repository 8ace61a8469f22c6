/**
 * Saving and loading models and training checkpoints as safetensors files.
 *
 * A model file holds every parameter and buffer under its dotted name
 * (`fc1.weight`, `0.bias`) as F32, plus `__metadata__`:
 *
 *   "format": "wasmgrad.model", "format_version": "1",
 *   "model": JSON of describeModule(model)   (architecture: rebuilt by loadModel)
 *
 * A checkpoint adds the optimizer's state buffers (`optimizer.<i>.<buffer>`,
 * i = the parameter's index in the optimizer), its hyper-parameters and step
 * count (`optimizer` metadata, JSON), the global random generator's state
 * (`rng`), and the caller's step/epoch — everything needed for training
 * resumed from it to produce exactly the losses uninterrupted training would.
 */

import { ConfigError, FormatError, ShapeError, fmtShape } from '../errors.js';
import type { Module } from '../nn/module.js';
import { buildModule, describeModule, type ModuleSpec } from '../nn/registry.js';
import type { Optimizer, OptimizerStateDict } from '../optim/optimizer.js';
import { getGenerator, type GeneratorState } from '../random.js';
import { tensor, type Tensor } from '../tensor.js';
import { loadTensors, saveTensors, type LoadOptions, type SaveOptions } from './tensors.js';

export const MODEL_FORMAT = 'wasmgrad.model';
export const CHECKPOINT_FORMAT = 'wasmgrad.checkpoint';
export const FORMAT_VERSION = '1';
const RESERVED = ['format', 'format_version', 'model', 'optimizer', 'rng', 'step', 'epoch'];

export interface SaveModelOptions extends SaveOptions {
  /** Extra string metadata stored in the file (keys must not clash with wasmgrad's own). */
  metadata?: Record<string, string>;
}

function modelTensors(model: Module): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of [...model.namedParameters(), ...model.namedBuffers()]) out.set(name, t);
  return out;
}

function checkUserMetadata(where: string, m: Record<string, string> | undefined): Record<string, string> {
  for (const [k, v] of Object.entries(m ?? {})) {
    if (RESERVED.includes(k)) throw new ConfigError(`${where}: metadata key '${k}' is reserved; reserved: ${RESERVED.join(', ')}`);
    if (typeof v !== 'string') throw new ConfigError(`${where}: metadata values must be strings; '${k}' is ${typeof v}`);
  }
  return { ...(m ?? {}) };
}

/**
 * The model's architecture and weights as a safetensors file.
 * @example fs.writeFileSync('mnist.safetensors', saveModel(model));
 */
export function saveModel(model: Module, options: SaveModelOptions = {}): Uint8Array {
  const { metadata, ...save } = options;
  const meta = {
    ...checkUserMetadata('saveModel', metadata),
    format: MODEL_FORMAT,
    format_version: FORMAT_VERSION,
    model: JSON.stringify(describeModule(model)),
  };
  return saveTensors(modelTensors(model), meta, save);
}

export interface LoadWeightsOptions {
  /** Require exactly the model's parameter and buffer names (default true); false ignores extra and missing tensors. */
  strict?: boolean;
}

/**
 * Copies tensors into the model's parameters and buffers by name, in place.
 * Every mismatch — missing, unexpected, wrong shape — is listed in one error,
 * and nothing is written unless everything matches.
 */
export function loadWeights(model: Module, tensors: Record<string, Tensor> | Map<string, Tensor>, options: LoadWeightsOptions = {}): void {
  const strict = options.strict !== false;
  const source = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const targets = modelTensors(model);
  const problems: string[] = [];
  for (const [name, t] of targets) {
    const s = source.get(name);
    if (!s) {
      if (strict) problems.push(`missing '${name}' ${fmtShape(t.shape)}`);
    } else if (s.shape.join() !== t.shape.join() || s.dtype !== t.dtype) {
      problems.push(`'${name}': file has ${fmtShape(s.shape)} ${s.dtype}, model has ${fmtShape(t.shape)} ${t.dtype}`);
    }
  }
  if (strict) for (const name of source.keys()) if (!targets.has(name)) problems.push(`unexpected '${name}'`);
  if (problems.length > 0) {
    throw new ShapeError(`loadWeights: the tensors do not match the model (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.join('\n  ')}`);
  }
  for (const [name, t] of targets) {
    const s = source.get(name);
    if (!s) continue;
    const bytes = t.size * 4;
    t.backend.heap.u8.set(s.backend.heap.u8.subarray(s.ptr, s.ptr + bytes), t.ptr);
  }
}

function parseJsonMeta<T>(where: string, meta: Record<string, string>, key: string): T {
  const raw = meta[key];
  if (raw === undefined) throw new FormatError(`${where}: the file has no '${key}' metadata; is it a wasmgrad ${key === 'model' ? 'model' : 'checkpoint'} file?`);
  try {
    return JSON.parse(raw) as T;
  } catch (e) {
    throw new FormatError(`${where}: '${key}' metadata is not valid JSON: ${(e as Error).message}`);
  }
}

function checkFormat(where: string, meta: Record<string, string>, allowed: string[]): void {
  if (!allowed.includes(meta.format)) {
    throw new FormatError(`${where}: format is '${meta.format ?? '(none)'}', expected ${allowed.map((a) => `'${a}'`).join(' or ')}`);
  }
  if (meta.format_version !== FORMAT_VERSION) {
    throw new FormatError(`${where}: format_version '${meta.format_version}' is not supported (this wasmgrad reads version ${FORMAT_VERSION})`);
  }
}

/**
 * A model rebuilt from a file written by `saveModel` (or `saveCheckpoint`):
 * architecture from the metadata, weights from the tensors. Round trips are bit-exact.
 * @example const model = loadModel(fs.readFileSync('mnist.safetensors'));
 */
export function loadModel(bytes: Uint8Array | ArrayBuffer, options: LoadOptions = {}): Module {
  const { tensors, metadata } = loadTensors(bytes, options);
  try {
    checkFormat('loadModel', metadata, [MODEL_FORMAT, CHECKPOINT_FORMAT]);
    const spec = parseJsonMeta<ModuleSpec>('loadModel', metadata, 'model');
    const model = buildModule(spec);
    try {
      loadWeights(model, pickModelTensors(tensors));
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}

function pickModelTensors(tensors: Record<string, Tensor>): Map<string, Tensor> {
  return new Map(Object.entries(tensors).filter(([name]) => !name.startsWith('optimizer.')));
}

// ─── checkpoints ───────────────────────────────────────────────────────────

export interface CheckpointInfo {
  /** What the caller passed as `step` and `epoch` when saving. */
  step?: number;
  epoch?: number;
  metadata: Record<string, string>;
}

export interface SaveCheckpointOptions extends SaveModelOptions {
  step?: number;
  epoch?: number;
}

type OptimizerMeta = Omit<OptimizerStateDict, 'state'> & { buffers: string[][] };

/**
 * Model, optimizer state, step count and random-generator state in one file,
 * so training resumed from it continues exactly where it stopped.
 */
export function saveCheckpoint(model: Module, optimizer: Optimizer<never>, options: SaveCheckpointOptions = {}): Uint8Array {
  const { metadata, step, epoch, ...save } = options;
  const sd = optimizer.stateDict();
  const tensors = modelTensors(model);
  const extra: Tensor[] = [];
  try {
    const backend = model.parameters()[0]?.backend;
    const buffers = sd.state.map((bufs, i) =>
      Object.entries(bufs).map(([bname, arr]) => {
        const t = tensor(arr, sd.shapes[i], { backend });
        extra.push(t);
        tensors.set(`optimizer.${i}.${bname}`, t);
        return bname;
      }),
    );
    const { state: _state, ...rest } = sd;
    const optimizerMeta: OptimizerMeta = { ...rest, buffers };
    const meta: Record<string, string> = {
      ...checkUserMetadata('saveCheckpoint', metadata),
      format: CHECKPOINT_FORMAT,
      format_version: FORMAT_VERSION,
      model: JSON.stringify(describeModule(model)),
      optimizer: JSON.stringify(optimizerMeta),
      rng: JSON.stringify(getGenerator().getState()),
    };
    if (step !== undefined) meta.step = String(step);
    if (epoch !== undefined) meta.epoch = String(epoch);
    return saveTensors(tensors, meta, save);
  } finally {
    for (const t of extra) t.dispose();
  }
}

/**
 * Restores a checkpoint into an existing model and optimizer (built the same
 * way as when it was saved) and the global random generator; returns the
 * saved step/epoch and metadata.
 */
export function loadCheckpoint(bytes: Uint8Array | ArrayBuffer, model: Module, optimizer: Optimizer<never>, options: LoadOptions = {}): CheckpointInfo {
  const { tensors, metadata } = loadTensors(bytes, options);
  try {
    checkFormat('loadCheckpoint', metadata, [CHECKPOINT_FORMAT]);
    const om = parseJsonMeta<OptimizerMeta>('loadCheckpoint', metadata, 'optimizer');
    const rng = parseJsonMeta<GeneratorState>('loadCheckpoint', metadata, 'rng');
    const state = om.buffers.map((names, i) => {
      const bufs: Record<string, Float32Array> = {};
      for (const bname of names) {
        const t = tensors[`optimizer.${i}.${bname}`];
        if (!t) throw new FormatError(`loadCheckpoint: optimizer buffer 'optimizer.${i}.${bname}' is missing from the file`);
        bufs[bname] = t.data() as Float32Array;
      }
      return bufs;
    });
    const { buffers: _b, ...rest } = om;
    // loadWeights and loadStateDict each validate before writing; if the
    // optimizer part fails after the weights were written, put them back.
    const before = modelTensors(model);
    const snapshot = [...before.values()].map((t) => t.backend.heap.u8.slice(t.ptr, t.ptr + 4 * t.size));
    loadWeights(model, pickModelTensors(tensors));
    try {
      optimizer.loadStateDict({ ...rest, state } as OptimizerStateDict);
      getGenerator().setState(rng);
    } catch (e) {
      [...before.values()].forEach((t, i) => t.backend.heap.u8.set(snapshot[i], t.ptr));
      throw e;
    }
    const info: CheckpointInfo = { metadata };
    if (metadata.step !== undefined) info.step = Number(metadata.step);
    if (metadata.epoch !== undefined) info.epoch = Number(metadata.epoch);
    return info;
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}
