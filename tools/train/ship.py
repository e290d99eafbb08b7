"""Export checkpoints to the shipped files and write models/checksums.b2.

Writes:
  models/flint-coder-moe.<TYPE>.gguf, models/flint-coder-draft.<TYPE>.gguf
  WORK/flint-coder-moe.F32.gguf, WORK/flint-coder-draft.F32.gguf  (round-trip checks)
  tests/fixtures/vocab-flint/flint-coder.vocab.gguf (+ .inp/.out test cases)
  models/checksums.b2: "<BLAKE2b-512 hex>  <file name>" for every shipped
  model file (the vocab fixture is not a model file and is not listed)

Usage: python3 tools/train/ship.py --moe CKPT --draft CKPT [--type Q8_0]
(CKPT may also be a GGUF file, e.g. the shipped draft, to ship it unchanged.)
"""
import argparse
import hashlib
import os
import sys

from export import export, load_checkpoint
from gguf_writer import GGUFWriter, GType
from tokenizer import Tokenizer

MODELS = "models"
VOCAB_DIR = "tests/fixtures/vocab-flint"
SEP = "\n__ggml_vocab_test__\n"
VOCAB_CASES = [
    "int main(void) {\n    return 0;\n}\n",
    "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n    return a + b\n",
    "local M = {}\nfunction M.setup(opts)\n\topts = opts or {}\nend\nreturn M\n",
    "fn main() {\n    let v: Vec<u32> = (0..10).collect();\n    println!(\"{:?}\", v);\n}\n",
    "for i in $(seq 1 10); do echo \"$i\"; done\n",
    "nnoremap <silent> <leader>f :call flint#complete()<CR>\n",
    "const x = `template ${value}`; // 12345 digits\n",
    "   \t\n\n  trailing spaces   \n",
    "I'm sure you've seen it's 'quoted' and WE'LL see\n",
    "naïve café — 日本語 🦙 ½\n",
    "",
]


def blake2b_file(path):
    """Return the BLAKE2b-512 hex digest of a file."""
    h = hashlib.blake2b(digest_size=64)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_checksums(names):
    """Write models/checksums.b2 for the given file names in models/."""
    with open(os.path.join(MODELS, "checksums.b2"), "w") as f:
        for n in sorted(names):
            f.write(f"{blake2b_file(os.path.join(MODELS, n))}  {n}\n")


def write_vocab_fixture(tok):
    """Write the tokenizer-only GGUF and its .inp/.out cases (our encoder's
    ids, parse_special = false, the format of tests/fixtures/vocab/)."""
    os.makedirs(VOCAB_DIR, exist_ok=True)
    w = GGUFWriter()
    w.add("general.architecture", "llama")
    w.add("llama.block_count", 0, GType.UINT32)
    for key, value, vtype, item in tok.gguf_metadata():
        w.add(key, value, vtype, item)
    base = os.path.join(VOCAB_DIR, "flint-coder.vocab.gguf")
    w.write(base)
    with open(base + ".inp", "w", newline="") as f:
        f.write("".join(t + SEP for t in VOCAB_CASES))
    with open(base + ".out", "w") as f:
        f.write("\n".join("".join(f" {i}" for i in tok.encode(t)) for t in VOCAB_CASES) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moe", required=True)
    ap.add_argument("--draft", required=True)
    ap.add_argument("--type", default="Q8_0")
    ap.add_argument("--draft-type", default=None, help="default: --type")
    ap.add_argument("--tokenizer", default="corpus/tokenizer.json")
    ap.add_argument("--work", default="tools/train/work")
    args = ap.parse_args()
    tok = Tokenizer.load(args.tokenizer)
    shipped = []
    for kind, ckpt, wtype in (("moe", args.moe, args.type),
                              ("draft", args.draft, args.draft_type or args.type)):
        model = load_checkpoint(ckpt)
        name = f"flint-coder-{kind}"
        export(model, tok, os.path.join(args.work, f"{name}.F32.gguf"), "F32", name)
        fn = f"{name}.{wtype}.gguf"
        for old in os.listdir(MODELS):      # one shipped type per model
            if old.startswith(name + ".") and old.endswith(".gguf") and old != fn:
                os.remove(os.path.join(MODELS, old))
        size = export(model, tok, os.path.join(MODELS, fn), wtype, name)
        shipped.append(fn)
        print(f"{fn}: {size / 1e6:.1f} MB")
    write_checksums(shipped)
    write_vocab_fixture(tok)
    print("wrote models/checksums.b2 and", VOCAB_DIR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
