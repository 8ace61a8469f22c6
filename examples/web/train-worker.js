// The playground's training worker: wasmgrad's serveTraining() plus the
// digits, which the worker loads itself (trainInWorker(worker, model, 'digits')):
//   'digits'        x [N, 784]        for the MLPs
//   'digits-nhwc'   x [N, 28, 28, 1]  the same images as NHWC, for the CNN
// Both come from one fetch of the JSON files.
import * as wg from '../../dist/wasmgrad.browser.js';
import { loadDigits } from './digits.js';

let digits = null;
const load = () => (digits ??= loadDigits({ validation: 1000, seed: 42 }).catch((e) => {
  digits = null;
  throw e;
}));
const asImages = ({ x, y }) => ({ x: { data: x.data, shape: [x.shape[0], 28, 28, 1] }, y });

wg.serveTraining({
  datasets: {
    digits: load,
    'digits-nhwc': async () => {
      const d = await load();
      return { ...asImages(d), validation: asImages(d.validation) };
    },
  },
});
