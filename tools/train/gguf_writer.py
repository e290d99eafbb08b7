"""Minimal GGUF v3 writer (little-endian, alignment 32), written from the spec.

File layout: magic "GGUF", u32 version, u64 tensor count, u64 metadata count,
the metadata key/value pairs, the tensor infos (name, n_dims, ne[] with ne[0]
first, ggml type, offset relative to the data section), zero padding to the
alignment, then each tensor's data, every tensor starting at a multiple of
the alignment.

Tensors are given as numpy arrays in row-major order; ggml's ne[] is the
numpy shape reversed (a PyTorch Linear weight [out, in] is ggml [in, out]).
Quantized types (Q8_0, Q4_0) are produced here from float32 data.

Usage:
    w = GGUFWriter()
    w.add("general.architecture", "qwen3")          # type inferred, or
    w.add("x.count", 3, GType.UINT32)               # explicit
    w.add_tensor("token_embd.weight", array, TType.Q8_0)
    w.write("model.gguf")
"""
import struct

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32


class GType:
    """GGUF metadata value types."""
    UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, \
        UINT64, INT64, FLOAT64 = range(13)


class TType:
    """ggml tensor types this writer can produce."""
    F32, F16, Q4_0, Q8_0 = 0, 1, 2, 8


SCALAR_FMT = {GType.UINT8: "<B", GType.INT8: "<b", GType.UINT16: "<H", GType.INT16: "<h",
              GType.UINT32: "<I", GType.INT32: "<i", GType.FLOAT32: "<f", GType.BOOL: "<?",
              GType.UINT64: "<Q", GType.INT64: "<q", GType.FLOAT64: "<d"}
QK = 32   # elements per Q8_0 / Q4_0 block


def _round_half_away(x):
    """C roundf(): round half away from zero (numpy's round is half-to-even)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantize_q8_0(x):
    """Return Q8_0 bytes of float32 x (size divisible by 32), per block:
    fp16 d = amax/127, then 32 int8 q = round(x/d) (ggml's reference)."""
    b = x.astype(np.float32).reshape(-1, QK)
    d = np.abs(b).max(axis=1) / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0).astype(np.float32)
    q = _round_half_away(b * inv[:, None]).astype(np.int8)
    out = np.zeros(len(b), dtype=[("d", "<f2"), ("q", "i1", QK)])
    out["d"], out["q"] = d.astype(np.float16), q
    return out.tobytes()


def quantize_q4_0(x):
    """Return Q4_0 bytes of float32 x, per block: fp16 d = m/-8 (m = the
    element of largest magnitude, signed), nibbles q = min(15, int(x/d + 8.5)),
    element j in the low nibble of byte j, element j+16 in its high nibble."""
    b = x.astype(np.float32).reshape(-1, QK)
    idx = np.abs(b).argmax(axis=1)
    m = b[np.arange(len(b)), idx]
    d = (m / -8.0).astype(np.float32)
    inv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0).astype(np.float32)
    q = np.minimum(15, np.trunc(b * inv[:, None] + 8.5)).astype(np.uint8)
    packed = q[:, :QK // 2] | (q[:, QK // 2:] << 4)
    out = np.zeros(len(b), dtype=[("d", "<f2"), ("q", "u1", QK // 2)])
    out["d"], out["q"] = d.astype(np.float16), packed
    return out.tobytes()


def tensor_bytes(arr, ttype):
    """Return the raw data of arr stored as ttype."""
    a = np.ascontiguousarray(arr, dtype=np.float32)
    if ttype == TType.F32:
        return a.astype("<f4").tobytes()
    if ttype == TType.F16:
        return a.astype("<f2").tobytes()
    if a.shape[-1] % QK:
        raise ValueError(f"row length {a.shape[-1]} not a multiple of {QK}")
    if ttype == TType.Q8_0:
        return quantize_q8_0(a)
    if ttype == TType.Q4_0:
        return quantize_q4_0(a)
    raise ValueError(f"unsupported tensor type {ttype}")


def _pack_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _infer_type(value):
    if isinstance(value, bool):
        return GType.BOOL
    if isinstance(value, int):
        return GType.UINT32 if 0 <= value < 2**32 else GType.INT64
    if isinstance(value, float):
        return GType.FLOAT32
    if isinstance(value, str):
        return GType.STRING
    raise TypeError(f"cannot infer GGUF type of {value!r}")


def _pack_value(value, vtype, item_type=None):
    if vtype == GType.STRING:
        return _pack_string(value)
    if vtype == GType.ARRAY:
        items = list(value)
        it = item_type if item_type is not None else _infer_type(items[0])
        body = b"".join(_pack_value(v, it) for v in items)
        return struct.pack("<IQ", it, len(items)) + body
    return struct.pack(SCALAR_FMT[vtype], value)


class GGUFWriter:
    """Collects metadata and tensors, then writes one GGUF v3 file."""

    def __init__(self):
        self.kv = []        # (key, type, packed value)
        self.tensors = []   # (name, ne list, ggml type, data bytes)

    def add(self, key, value, vtype=None, item_type=None):
        """Add metadata key = value; vtype defaults to the inferred scalar type
        (int -> UINT32, float -> FLOAT32, bool, str); lists need
        vtype=GType.ARRAY and optionally item_type."""
        if any(k == key for k, _, _ in self.kv):
            raise ValueError(f"duplicate key {key}")
        if isinstance(value, (list, tuple)) and vtype is None:
            vtype = GType.ARRAY
        vtype = _infer_type(value) if vtype is None else vtype
        self.kv.append((key, vtype, _pack_value(value, vtype, item_type)))

    def add_tensor(self, name, arr, ttype=TType.F32):
        """Add tensor `name` from numpy/torch array arr (row-major) as ttype."""
        a = np.asarray(arr.detach().cpu().float().numpy() if hasattr(arr, "detach") else arr)
        ne = list(reversed(a.shape))
        self.tensors.append((name, ne, ttype, tensor_bytes(a, ttype)))

    def write(self, path):
        """Write the file; return its size in bytes."""
        out = bytearray()
        out += GGUF_MAGIC + struct.pack("<IQQ", GGUF_VERSION, len(self.tensors), len(self.kv))
        for key, vtype, packed in self.kv:
            out += _pack_string(key) + struct.pack("<I", vtype) + packed
        offset = 0
        for name, ne, ttype, data in self.tensors:
            out += _pack_string(name) + struct.pack("<I", len(ne))
            out += struct.pack(f"<{len(ne)}Q", *ne) + struct.pack("<IQ", ttype, offset)
            offset += (len(data) + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
        out += b"\0" * (-len(out) % ALIGNMENT)
        for _, _, _, data in self.tensors:
            out += data + b"\0" * (-len(data) % ALIGNMENT)
        with open(path, "wb") as f:
            f.write(out)
        return len(out)
