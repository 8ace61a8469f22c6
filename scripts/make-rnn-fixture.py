#!/usr/bin/env python3
"""
PyTorch reference values for tests/rnn-torch.test.ts: torch.nn.LSTM, GRU and
RNN (2 layers, bidirectional, padded batch with lengths via
pack_padded_sequence) — outputs, final states and every gradient of a fixed
projection of them. Not needed to run the tests: the output replaces the block
between the FIXTURE markers in the test file.

    /usr/bin/python3 scripts/make-rnn-fixture.py            # rewrites the block in tests/rnn-torch.test.ts
    /usr/bin/python3 scripts/make-rnn-fixture.py --print    # prints it instead

Made with Debian's python3-torch 1.13 (CPU, float32).
"""
import json
import re
import sys
from pathlib import Path

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

N, T, I, H, L = 3, 5, 3, 4, 2
LENGTHS = [5, 3, 1]


def rounded(t):
    return [float(f"{v:.7g}") for v in t.detach().reshape(-1).tolist()]


def case(kind, **kw):
    torch.manual_seed({"lstm": 1, "gru": 2, "rnn": 3}[kind])
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    m = cls(I, H, num_layers=L, bidirectional=True, batch_first=True, **kw)
    x = (torch.rand(N, T, I) * 2 - 1).requires_grad_()
    h0 = (torch.rand(2 * L, N, H) * 2 - 1).requires_grad_()
    c0 = (torch.rand(2 * L, N, H) * 2 - 1).requires_grad_()
    packed = pack_padded_sequence(x, torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False)
    if kind == "lstm":
        out, (hn, cn) = m(packed, (h0, c0))
    else:
        out, hn = m(packed, h0)
        cn = None
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
    # A fixed projection of every output, so each gradient is exercised.
    g = torch.Generator().manual_seed(9)
    wo = torch.rand(out.shape, generator=g) + 0.25
    wh = torch.rand(hn.shape, generator=g) + 0.25
    loss = (out * wo).sum() + (hn * wh).sum()
    if cn is not None:
        wc = torch.rand(cn.shape, generator=g) + 0.25
        loss = loss + (cn * wc).sum()
    loss.backward()
    d = {
        "kind": kind, **kw,
        "params": {name: {"shape": list(p.shape), "data": rounded(p), "grad": rounded(p.grad)} for name, p in m.named_parameters()},
        "x": rounded(x), "dx": rounded(x.grad), "h0": rounded(h0), "dh0": rounded(h0.grad),
        "output": rounded(out), "hn": rounded(hn), "wo": rounded(wo), "wh": rounded(wh),
    }
    if cn is not None:
        d.update({"c0": rounded(c0), "dc0": rounded(c0.grad), "cn": rounded(cn), "wc": rounded(wc)})
    return d


def main():
    fixture = {
        "torch": torch.__version__, "N": N, "T": T, "I": I, "H": H, "numLayers": L, "lengths": LENGTHS,
        "cases": [case("lstm"), case("gru"), case("rnn", nonlinearity="tanh"), case("rnn", nonlinearity="relu")],
    }
    block = "const FIXTURE = " + json.dumps(fixture, separators=(",", ":")) + ";\n"
    if "--print" in sys.argv:
        print(block)
        return
    path = Path(__file__).resolve().parent.parent / "tests" / "rnn-torch.test.ts"
    src = path.read_text()
    new = re.sub(r"(// FIXTURE BEGIN[^\n]*\n).*?(// FIXTURE END)", lambda m: m.group(1) + block + m.group(2), src, flags=re.S)
    path.write_text(new)


if __name__ == "__main__":
    main()
