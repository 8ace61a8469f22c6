#!/usr/bin/env python3
"""
Interop fixtures for tests/safetensors.test.ts, made with the reference
implementation (the `safetensors` Python package, Rust core) — not needed to
run the tests: its output is pasted into the test as a hex literal.

    python3 scripts/make-safetensors-fixture.py          # prints the fixture as hex
    python3 scripts/make-safetensors-fixture.py --check FILE...
        # loads files written by wasmgrad (saveTensors / serializeSafetensors)
        # with the reference reader and prints each tensor, or the reference's error

Needs `safetensors` and `numpy` (pip install safetensors numpy).
"""
import sys

import numpy as np
import safetensors
from safetensors import TensorSpec


def fixture() -> bytes:
    """One tensor of every dtype wasmgrad reads, with awkward values, plus metadata."""
    f32 = np.array([0x3FC00000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00001, 0xFFC12345, 0x00000001, 0x7F7FFFFF],
                   dtype=np.uint32).view(np.float32).reshape(2, 4)  # 1.5, -0, Inf, -Inf, NaN payloads, min subnormal, max
    bf16 = np.array([0x3F80, 0xC040, 0x7F80, 0x0001], dtype=np.uint16)  # 1, -3, Inf, smallest subnormal
    arrays = {
        "f32": f32,
        "f16": np.array([1.0, -2.0, 65504.0, 2.0**-24, np.inf], dtype=np.float16),
        "f64": np.array([0.1, -1e300], dtype=np.float64),
        "i64": np.array([-(2**31), 2**31 - 1, -1], dtype=np.int64),
        "u64": np.array([7], dtype=np.uint64),
        "i32": np.array([[-(2**31)], [2**31 - 1]], dtype=np.int32),
        "u32": np.array([123456], dtype=np.uint32),
        "i16": np.array([-300, 300], dtype=np.int16),
        "u16": np.array([65535], dtype=np.uint16),
        "i8": np.array([-128, 127], dtype=np.int8),
        "u8": np.array([0, 255, 1], dtype=np.uint8),
        "flag": np.array([True, False], dtype=np.bool_),
        "scalar": np.array(2.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    dtype_names = {
        np.float32: "float32", np.float16: "float16", np.float64: "float64", np.int64: "int64", np.uint64: "uint64",
        np.int32: "int32", np.uint32: "uint32", np.int16: "int16", np.uint16: "uint16", np.int8: "int8",
        np.uint8: "uint8", np.bool_: "bool",
    }
    keep = []
    specs = {}
    for name, a in arrays.items():
        a = a.copy(order="C")  # (np.ascontiguousarray would turn the 0-d scalar into shape [1])
        keep.append(a)
        specs[name] = TensorSpec(dtype=dtype_names[a.dtype.type], shape=list(a.shape), data_ptr=a.ctypes.data,
                                 data_len=a.nbytes)
    keep.append(bf16)
    specs["bf16"] = TensorSpec(dtype="bfloat16", shape=[4], data_ptr=bf16.ctypes.data, data_len=bf16.nbytes)
    return safetensors.serialize(specs, {"format": "np"})


def check(path: str) -> None:
    data = open(path, "rb").read()
    try:
        tensors = safetensors.deserialize(data)
    except Exception as e:  # the reference's verdict, printed rather than raised
        print(f"{path}: rejected by the reference: {e}")
        return
    print(f"{path}: {len(tensors)} tensors")
    for name, t in tensors:
        print(f"  {name!r}: {t['dtype']} {t['shape']} {bytes(t['data']).hex()}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        for p in sys.argv[2:]:
            check(p)
    else:
        print(f"safetensors {safetensors.__version__}")
        print(fixture().hex())
