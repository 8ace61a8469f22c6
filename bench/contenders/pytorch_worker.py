"""PyTorch side of the `pytorch-cpu` contender (bench/contenders/pytorch.mjs).

One persistent process per suite run, driven over a line-based JSON protocol:
one request per line on stdin, one reply per line on stdout.

  {"cmd": "hello"}                       -> versions, thread counts
  {"cmd": "setup", "case": {...}}        -> builds a matmul case or a training
                                            case (model, Adam, resident batch);
                                            replies lossBefore for training
  {"cmd": "run", "n": N}                 -> N steps, timed HERE with
                                            time.perf_counter (no IPC in the
                                            time); replies seconds, cpuSeconds
                                            (time.process_time: every thread of
                                            this process), threads
  {"cmd": "loss"}                        -> loss on the batch (no grad)
  {"cmd": "dispose"}                     -> drops the case
  {"cmd": "exit"}

Tensors travel as base64 of little-endian float32 / int32 arrays. Weights come
from the suite (bench/cases/train.mjs's seeded Glorot-uniform, drawn in
wasmgrad's layouts) and are mapped here onto torch.nn modules' layouts, so
every contender starts from the same weights. Replies: {"ok": true, ...} or
{"ok": false, "error": "..."}.
"""
import base64
import gc
import json
import math
import os
import sys
import time
import traceback

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except Exception as e:  # reported by the Node side as the skip reason
    sys.stdout.write(json.dumps({"ok": False, "error": f"import torch failed: {type(e).__name__}: {e}"}) + "\n")
    sys.stdout.flush()
    sys.exit(3)

# One thread: intra-op (OpenMP/MKL-DNN) and inter-op pools. The inter-op call
# must come before any parallel work.
torch.set_num_threads(1)
torch.set_num_interop_threads(1)
torch.manual_seed(0)


def os_threads():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def f32(b64, shape):
    t = torch.frombuffer(bytearray(base64.b64decode(b64)), dtype=torch.float32)
    return t.reshape(shape).clone()


def i64(b64, n):
    t = torch.frombuffer(bytearray(base64.b64decode(b64)), dtype=torch.int32)
    return t.reshape(n).to(torch.int64)


# ------------------------------------------------------------------ models


class LstmClassifier(nn.Module):
    def __init__(self, inp, hidden, classes):
        super().__init__()
        self.lstm = nn.LSTM(inp, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):  # x [B, T, I]
        _, (h, _) = self.lstm(x)  # h [1, B, H]: the last step
        return self.head(h[-1])


class EncoderClassifier(nn.Module):
    def __init__(self, steps, inp, d, heads, ffn, classes):
        super().__init__()
        self.inp = nn.Linear(inp, d)
        self.pos = nn.Parameter(torch.zeros(steps, d))
        self.layer = nn.TransformerEncoderLayer(
            d, heads, dim_feedforward=ffn, dropout=0.0, activation="relu", batch_first=True, norm_first=True
        )
        self.head = nn.Linear(d, classes)

    def forward(self, x):  # x [B, T, I]
        h = self.layer(self.inp(x) + self.pos)  # [B, T, D]
        return self.head(h.mean(dim=1))  # [B, C]


def build(case, params):
    """The model of a training case, with the suite's weights (wasmgrad layouts) copied in."""
    model_name = case["model"]
    C = case["classes"]
    # wasmgrad stores Linear weights [in, out] (y = x·W + b); torch [out, in].
    lin = lambda name: params[name].t()
    if model_name == "mlp":
        m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, C))
        sd = {"0.weight": lin("0.weight"), "0.bias": params["0.bias"], "2.weight": lin("2.weight"), "2.bias": params["2.bias"]}
    elif model_name == "cnn":
        m = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(7 * 7 * 32, C),
        )
        hwio = lambda name: params[name].permute(3, 2, 0, 1)  # [kh, kw, in, out] -> [out, in, kh, kw]
        # wasmgrad flattens NHWC (h, w, c); torch flattens NCHW (c, h, w): permute the dense rows.
        dense = params["7.weight"].reshape(7, 7, 32, C).permute(2, 0, 1, 3).reshape(7 * 7 * 32, C).t()
        sd = {"0.weight": hwio("0.weight"), "0.bias": params["0.bias"], "3.weight": hwio("3.weight"),
              "3.bias": params["3.bias"], "7.weight": dense, "7.bias": params["7.bias"]}
    elif model_name == "lstm":
        T, I = case["sampleShape"]
        m = LstmClassifier(I, case["hidden"], C)
        # Gate blocks i | f | g | o in both libraries: a transpose is all it takes.
        sd = {"lstm.weight_ih_l0": lin("lstm.weight_ih_l0"), "lstm.weight_hh_l0": lin("lstm.weight_hh_l0"),
              "lstm.bias_ih_l0": params["lstm.bias_ih_l0"], "lstm.bias_hh_l0": params["lstm.bias_hh_l0"],
              "head.weight": lin("head.weight"), "head.bias": params["head.bias"]}
    elif model_name == "transformer":
        T, I = case["sampleShape"]
        m = EncoderClassifier(T, I, case["dModel"], case["heads"], case["ffn"], C)
        a = "layer.selfAttn."
        sd = {
            "inp.weight": lin("inp.weight"), "inp.bias": params["inp.bias"], "pos": params["pos"],
            "layer.self_attn.in_proj_weight": torch.cat([lin(a + "wq"), lin(a + "wk"), lin(a + "wv")], 0),
            "layer.self_attn.in_proj_bias": torch.cat([params[a + "bq"], params[a + "bk"], params[a + "bv"]], 0),
            "layer.self_attn.out_proj.weight": lin(a + "wo"), "layer.self_attn.out_proj.bias": params[a + "bo"],
            "layer.linear1.weight": lin("layer.linear1.weight"), "layer.linear1.bias": params["layer.linear1.bias"],
            "layer.linear2.weight": lin("layer.linear2.weight"), "layer.linear2.bias": params["layer.linear2.bias"],
            "layer.norm1.weight": params["layer.norm1.weight"], "layer.norm1.bias": params["layer.norm1.bias"],
            "layer.norm2.weight": params["layer.norm2.weight"], "layer.norm2.bias": params["layer.norm2.bias"],
            "head.weight": lin("head.weight"), "head.bias": params["head.bias"],
        }
    else:
        raise ValueError(f"no PyTorch model for {model_name}")
    m.load_state_dict({k: v.contiguous() for k, v in sd.items()}, strict=True)
    m.train()
    return m


# ------------------------------------------------------------------ cases

state = {}


def setup(case):
    state.clear()
    gc.collect()
    if case["group"] == "matmul":
        M, K, N = case["m"], case["k"], case["n"]
        a, b = f32(case["a"], (M, K)), f32(case["b"], (K, N))
        state["step"] = lambda: torch.mm(a, b)  # result freed when the lambda returns
        state["refs"] = (a, b)
        return {}
    B = case["batch"]
    params = {p["name"]: f32(p["data"], p["shape"]) for p in case["params"]}
    model = build(case, params)
    x = f32(case["x"], [B, *case["sampleShape"]])
    if case["model"] == "cnn":
        x = x.permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
    y = i64(case["labels"], B)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    def loss_now():
        with torch.no_grad():
            return F.cross_entropy(model(x), y).item()

    state.update(step=step, loss=loss_now, refs=(model, opt, x, y))
    return {"lossBefore": loss_now(), "parameters": sum(p.numel() for p in model.parameters())}


def run(n):
    step = state["step"]
    c0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "cpuSeconds": time.process_time() - c0, "threads": os_threads()}


def cpu_capability():
    try:
        return torch.backends.cpu.get_cpu_capability()  # torch >= 2.0
    except Exception:
        cfg = torch.__config__.show()
        i = cfg.find("CPU capability usage:")
        return cfg[i:].split("\n")[0].split(":")[1].strip() if i >= 0 else None


def linked_math_libraries():
    """The BLAS/LAPACK/oneDNN/OpenMP libraries mapped into this process (Linux), resolved to files.

    Debian's torch calls whatever libblas.so.3 the alternatives system points
    at: the netlib reference BLAS (libblas3) unless OpenBLAS, BLIS or MKL is
    installed. PyTorch's Linear/matmul/LSTM speed depends on it (its
    convolutions run on oneDNN instead), so the suite reports it."""
    out = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1] if len(line.split()) >= 6 else ""
                name = os.path.basename(p).lower()
                if any(k in name for k in ("blas", "lapack", "mkl", "dnnl", "blis", "gomp", "omp")):
                    real = os.path.realpath(p)
                    if real not in out:
                        out.append(real)
    except OSError:
        pass
    return out


def hello():
    return {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "numThreads": torch.get_num_threads(),
        "numInteropThreads": torch.get_num_interop_threads(),
        "threads": os_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cpuCapability": cpu_capability(),
        "ompNumThreads": os.environ.get("OMP_NUM_THREADS"),
        "libraries": linked_math_libraries(),
    }


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            cmd = req["cmd"]
            if cmd == "hello":
                out = hello()
            elif cmd == "setup":
                out = setup(req["case"])
            elif cmd == "run":
                out = run(int(req["n"]))
            elif cmd == "loss":
                out = {"loss": state["loss"]()}
            elif cmd == "dispose":
                state.clear()
                gc.collect()
                out = {}
            elif cmd == "exit":
                break
            else:
                raise ValueError(f"unknown command {cmd!r}")
            reply = {"ok": True, **out}
        except Exception as e:
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc(limit=3)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
