"""Byte-level BPE tokenizer: pure-Python reference encoder and GGUF vocab keys.

Semantics are llama.cpp's for `tokenizer.ggml.model = "gpt2"`,
`tokenizer.ggml.pre = "qwen2"`:

1. (parse_special only) split the text on the special-token strings;
2. pre-tokenize each piece with PRE_RE (llama.cpp's qwen2 regex, digits one
   by one);
3. map each pre-token's UTF-8 bytes to GPT-2 byte-unicode characters;
4. BPE: repeatedly merge the adjacent pair with the lowest merge rank
   (all its occurrences, left to right) until no pair has a rank;
5. map the resulting strings to ids.

Vocabulary layout: ids 0-255 are the single bytes (id b = byte b), then one
id per learned token in merge order, then the SPECIALS (CONTROL type).
The file format is tokenizer.json-like: {"merges": ["a b", ...],
"tokens": [...], "specials": [...]} (see save/load).
"""
import json

import regex

# llama.cpp's qwen2 pre-tokenizer (src/llama-vocab.cpp, LLAMA_VOCAB_PRE_TYPE_QWEN2).
# Same as Qwen2's tokenizer.json `(?i:'s|'t|'re|'ve|'m|'ll|'d)` prefix spelled
# with explicit ASCII case classes, as llama.cpp does.
PRE_PATTERN = (r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
               r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")
PRE_RE = regex.compile(PRE_PATTERN)

SPECIALS = ("<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
            "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<|im_start|>", "<|im_end|>")
TOKEN_TYPE_NORMAL, TOKEN_TYPE_CONTROL = 1, 3


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_ENC = bytes_to_unicode()
BYTE_DEC = {c: b for b, c in BYTE_ENC.items()}


def pretokenize(text):
    """Return the qwen2 pre-tokens of text, each as a byte-unicode string."""
    return ["".join(BYTE_ENC[b] for b in p.encode("utf-8")) for p in PRE_RE.findall(text)]


class Tokenizer:
    """Rank-ordered merges plus the token list; see the module docstring."""

    def __init__(self, merges, tokens, specials=SPECIALS):
        self.merges = list(merges)                       # [(a, b)], rank = index
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.tokens = list(tokens) + list(specials)
        self.specials = list(specials)
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.special_re = regex.compile("|".join(regex.escape(s) for s in specials))
        self.cache = {}

    @property
    def n_vocab(self):
        return len(self.tokens)

    def special(self, s):
        """Return the id of special token string s."""
        return self.ids[s]

    def bpe(self, word):
        """Return the BPE symbols of one byte-unicode pre-token (cached)."""
        out = self.cache.get(word)
        if out is not None:
            return out
        syms = list(word)
        ranks = self.ranks
        while len(syms) > 1:
            best, best_rank = None, None
            for i in range(len(syms) - 1):
                r = ranks.get((syms[i], syms[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = (syms[i], syms[i + 1]), r
            if best is None:
                break
            merged, i = [], 0
            while i < len(syms):
                if i < len(syms) - 1 and syms[i] == best[0] and syms[i + 1] == best[1]:
                    merged.append(best[0] + best[1])
                    i += 2
                else:
                    merged.append(syms[i])
                    i += 1
            syms = merged
        if len(self.cache) < 2_000_000:
            self.cache[word] = syms
        return syms

    def encode(self, text):
        """Return the ids of text with special-token strings treated as text
        (llama.cpp parse_special = false)."""
        ids = self.ids
        out = []
        for w in pretokenize(text):
            out.extend(ids[s] for s in self.bpe(w))
        return out

    def encode_special(self, text):
        """Return the ids of text, special-token strings becoming their ids
        (llama.cpp parse_special = true)."""
        out, pos = [], 0
        for m in self.special_re.finditer(text):
            out += self.encode(text[pos:m.start()])
            out.append(self.ids[m.group(0)])
            pos = m.end()
        return out + self.encode(text[pos:])

    def decode_bytes(self, ids):
        """Return the bytes of ids (special tokens as their text)."""
        out = bytearray()
        for i in ids:
            t = self.tokens[i]
            out += t.encode() if t in self.specials else bytes(BYTE_DEC[c] for c in t)
        return bytes(out)

    def decode(self, ids):
        """Return the text of ids (invalid UTF-8 replaced)."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def save(self, path):
        """Write merges, tokens and specials as JSON."""
        with open(path, "w") as f:
            json.dump({"pre": "qwen2", "merges": [f"{a} {b}" for a, b in self.merges],
                       "tokens": self.tokens[:len(self.tokens) - len(self.specials)],
                       "specials": self.specials}, f, ensure_ascii=False)

    @classmethod
    def load(cls, path):
        """Read a file written by save()."""
        with open(path) as f:
            d = json.load(f)
        return cls([tuple(m.split(" ")) for m in d["merges"]], d["tokens"], d["specials"])

    @classmethod
    def from_gguf(cls, path):
        """Build a Tokenizer from a GGUF file's tokenizer.ggml.* keys."""
        from gguf_reader import read_gguf
        g = read_gguf(path)
        tokens, types = g.meta["tokenizer.ggml.tokens"], g.meta["tokenizer.ggml.token_type"]
        specials = [t for t, ty in zip(tokens, types) if ty == TOKEN_TYPE_CONTROL]
        normal = [t for t, ty in zip(tokens, types) if ty != TOKEN_TYPE_CONTROL]
        if tokens != normal + specials:
            raise ValueError(f"{path}: control tokens are expected after all others")
        return cls([tuple(m.split(" ")) for m in g.meta["tokenizer.ggml.merges"]], normal, specials)

    def gguf_metadata(self):
        """Return [(key, value, gguf type, item type)] for all tokenizer.* keys."""
        from gguf_writer import GType
        eot = self.ids["<|endoftext|>"]
        types = [TOKEN_TYPE_CONTROL if t in self.specials else TOKEN_TYPE_NORMAL
                 for t in self.tokens]
        u32 = GType.UINT32
        kv = [("tokenizer.ggml.model", "gpt2", GType.STRING, None),
              ("tokenizer.ggml.pre", "qwen2", GType.STRING, None),
              ("tokenizer.ggml.tokens", self.tokens, GType.ARRAY, GType.STRING),
              ("tokenizer.ggml.token_type", types, GType.ARRAY, GType.INT32),
              ("tokenizer.ggml.merges", [f"{a} {b}" for a, b in self.merges],
               GType.ARRAY, GType.STRING),
              ("tokenizer.ggml.bos_token_id", eot, u32, None),
              ("tokenizer.ggml.eos_token_id", eot, u32, None),
              ("tokenizer.ggml.padding_token_id", eot, u32, None),
              ("tokenizer.ggml.add_bos_token", False, GType.BOOL, None)]
        for key, tok in (("pre", "<|fim_prefix|>"), ("suf", "<|fim_suffix|>"),
                         ("mid", "<|fim_middle|>"), ("pad", "<|fim_pad|>"),
                         ("rep", "<|repo_name|>"), ("sep", "<|file_sep|>")):
            kv.append((f"tokenizer.ggml.fim_{key}_token_id", self.ids[tok], u32, None))
        kv.append(("tokenizer.chat_template", CHAT_TEMPLATE, GType.STRING, None))
        return kv


# Standard ChatML template (as shipped with Qwen2.5 instruct models, minus tools).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
