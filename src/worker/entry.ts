/**
 * dist/wasmgrad.worker.js: a ready-made training worker (the whole library
 * plus `serveTraining()`), for pages that do not bundle their own:
 *
 *   const job = trainInWorker(urlOfThisFile, model, { x, y }, { epochs: 2 });   // started, and terminated when done
 *   // e.g. <script type="module">: new URL('./node_modules/wasmgrad/dist/wasmgrad.worker.js', location.href)
 *   //      Vite: import urlOfThisFile from 'wasmgrad/worker?url'
 *
 * Custom layers must be registered in the worker too (registerModule), so
 * models with their own Module subclasses need their own worker script that
 * registers them and then calls serveTraining().
 */
import { serveTraining } from './serve-training.js';

serveTraining();
