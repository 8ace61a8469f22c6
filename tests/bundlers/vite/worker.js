import { serveTraining } from 'wasmgrad';

serveTraining();
