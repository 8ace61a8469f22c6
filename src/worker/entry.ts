/**
 * dist/wasmgrad.worker.js: a ready-made training worker (the whole library
 * plus `serveTraining()`), for pages that do not bundle their own:
 *
 *   const job = trainInWorker(new URL('wasmgrad/dist/wasmgrad.worker.js', import.meta.url), model, { x, y }, { epochs: 2 });
 *
 * Custom layers must be registered in the worker too (registerModule), so
 * models with their own Module subclasses need their own worker script that
 * registers them and then calls serveTraining().
 */
import { serveTraining } from './serve-training.js';

serveTraining();
