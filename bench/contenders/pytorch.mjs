// PyTorch (CPU, one thread) as an outside reference: only when Debian's
// python3-torch is installed. Not implemented beyond the probe: the suite
// reports why the row is absent.
import { spawnSync } from 'node:child_process';

export function probePytorch() {
  const r = spawnSync('python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 20000 });
  if (r.error) return { available: false, reason: `skipped: python3 not found (${r.error.code ?? r.error.message})` };
  if (r.status !== 0) return { available: false, reason: 'skipped: python3-torch is not installed (Debian: apt-get install python3-torch)' };
  return { available: true, version: r.stdout.trim(), reason: `skipped: PyTorch ${r.stdout.trim()} found, but its timing is not implemented in this suite yet` };
}
