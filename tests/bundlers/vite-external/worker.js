import { serveTraining } from 'wasmgrad/external';

serveTraining();
