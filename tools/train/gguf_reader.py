"""Minimal GGUF reader: metadata, tensor infos and F32/F16/Q8_0/Q4_0 data.

Used to compare exported files against the fixtures in
tests/fixtures/models/ and to evaluate exported weights in PyTorch.

    g = read_gguf("model.gguf")
    g.meta["general.architecture"]     -> "qwen3moe"
    g.tensors["blk.0.attn_q.weight"]   -> TensorInfo(ne=[256, 256], ttype=8, ...)
    g.array("blk.0.attn_q.weight")     -> float32 numpy array, shape = ne reversed

Command line: python3 tools/train/gguf_reader.py FILE [FILE2]
prints keys and tensors; with FILE2, prints the differences in key names,
key types and tensor names/ranks/types between the two files.
"""
import struct
import sys
from dataclasses import dataclass

import numpy as np

QK = 32
TYPE_NAMES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 8: "Q8_0", 12: "Q4_K", 13: "Q5_K",
              14: "Q6_K", 30: "BF16"}
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}


@dataclass
class TensorInfo:
    """One tensor: ggml ne[] (ne[0] first), type, absolute file offset."""
    name: str
    ne: list
    ttype: int
    offset: int


class GGUF:
    """A parsed file: meta {key: value}, meta_types {key: type}, tensors."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.buf = f.read()
        self.pos = 0
        if self.buf[:4] != b"GGUF":
            raise ValueError(f"{path}: not a GGUF file")
        self.pos = 4
        self.version, n_tensors, n_kv = self._unpack("<IQQ")
        self.meta, self.meta_types = {}, {}
        for _ in range(n_kv):
            key = self._string()
            (vtype,) = self._unpack("<I")
            self.meta_types[key] = vtype
            if vtype == 9:
                (it,) = self._unpack("<I")
                self.meta_types[key] = (9, it)
            self.meta[key] = self._value(vtype, self.meta_types[key])
        infos = []
        for _ in range(n_tensors):
            name = self._string()
            (nd,) = self._unpack("<I")
            ne = list(self._unpack(f"<{nd}Q"))
            ttype, off = self._unpack("<IQ")
            infos.append((name, ne, ttype, off))
        align = self.meta.get("general.alignment", 32)
        data_start = (self.pos + align - 1) // align * align
        self.tensors = {n: TensorInfo(n, ne, t, data_start + o) for n, ne, t, o in infos}

    def _unpack(self, fmt):
        vals = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return vals

    def _string(self):
        (n,) = self._unpack("<Q")
        s = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def _value(self, vtype, full_type):
        if vtype == 8:
            return self._string()
        if vtype == 9:
            (count,) = self._unpack("<Q")
            it = full_type[1]
            if it in _SCALARS:
                fmt = _SCALARS[it]
                vals = list(struct.unpack_from(f"<{count}{fmt[1]}", self.buf, self.pos))
                self.pos += count * struct.calcsize(fmt)
                return vals
            return [self._value(it, it) for _ in range(count)]
        return self._unpack(_SCALARS[vtype])[0]

    def array(self, name):
        """Return tensor `name` dequantized to float32, numpy shape = ne reversed."""
        t = self.tensors[name]
        n = int(np.prod(t.ne))
        shape = list(reversed(t.ne))
        if t.ttype == 0:
            a = np.frombuffer(self.buf, "<f4", n, t.offset)
        elif t.ttype == 1:
            a = np.frombuffer(self.buf, "<f2", n, t.offset).astype(np.float32)
        elif t.ttype == 8:
            blk = np.frombuffer(self.buf, [("d", "<f2"), ("q", "i1", QK)], n // QK, t.offset)
            a = blk["d"].astype(np.float32)[:, None] * blk["q"].astype(np.float32)
        elif t.ttype == 2:
            blk = np.frombuffer(self.buf, [("d", "<f2"), ("q", "u1", QK // 2)], n // QK, t.offset)
            q = np.concatenate([blk["q"] & 15, blk["q"] >> 4], axis=1).astype(np.float32) - 8
            a = blk["d"].astype(np.float32)[:, None] * q
        else:
            raise ValueError(f"{name}: type {TYPE_NAMES.get(t.ttype, t.ttype)} not supported")
        return np.asarray(a, dtype=np.float32).reshape(shape)


def read_gguf(path):
    """Parse a GGUF file; raise ValueError if it is not one."""
    return GGUF(path)


def describe(g):
    """Return a printable listing of g's metadata and tensors."""
    lines = []
    for k, v in g.meta.items():
        if isinstance(v, list):
            v = f"[{len(v)} items] {v[:6]}"
        lines.append(f"{k} ({g.meta_types[k]}) = {v}")
    for t in g.tensors.values():
        lines.append(f"T {t.name} {t.ne} {TYPE_NAMES.get(t.ttype, t.ttype)}")
    return "\n".join(lines)


def compare(a, b):
    """Return lines describing key and tensor-naming differences of a vs b.

    Block indices are folded (blk.N. -> blk.#.) so files with different
    depths compare; tensor dims are compared by rank only."""
    import re
    out = []
    for k in sorted(set(a.meta) | set(b.meta)):
        if k not in b.meta:
            out.append(f"key only in first: {k}")
        elif k not in a.meta:
            out.append(f"key only in second: {k}")
        elif a.meta_types[k] != b.meta_types[k]:
            out.append(f"key type differs: {k}: {a.meta_types[k]} vs {b.meta_types[k]}")

    def fold(g):
        return {re.sub(r"blk\.\d+\.", "blk.#.", n): (len(t.ne), t.ttype) for n, t in g.tensors.items()}
    fa, fb = fold(a), fold(b)
    for n in sorted(set(fa) | set(fb)):
        if n not in fb:
            out.append(f"tensor only in first: {n}")
        elif n not in fa:
            out.append(f"tensor only in second: {n}")
        elif fa[n][0] != fb[n][0]:
            out.append(f"tensor rank differs: {n}: {fa[n][0]} vs {fb[n][0]}")
    return out


if __name__ == "__main__":
    first = read_gguf(sys.argv[1])
    if len(sys.argv) > 2:
        print("\n".join(compare(first, read_gguf(sys.argv[2]))) or "same keys and tensors")
    else:
        print(describe(first))
