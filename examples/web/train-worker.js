// The playground's training worker: wasmgrad's serveTraining() plus the
// digits, which the worker loads itself (trainInWorker(worker, model, 'digits')).
import { serveTraining } from '../../dist/wasmgrad.browser.js';
import { loadDigits } from './digits.js';

serveTraining({ datasets: { digits: () => loadDigits({ validation: 1000, seed: 42 }) } });
