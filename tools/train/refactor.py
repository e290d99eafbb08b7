"""Synthetic refactor tasks: program transforms of real code with exact outputs.

Each transform takes (code, lang, rng) and returns (instruction, rewritten) or
None when it does not apply.  Every transform is defined so that the output
is unique and checkable; the definitions below are the contract the model
learns (see FORMATS.md):

- rename OLD to NEW: every whole-word occurrence of OLD (regex \\bOLD\\b,
  also inside strings and comments) becomes NEW.
- use double quotes / use single quotes: every simple string literal in the
  other quote style (no quote character or backslash inside) is re-quoted;
  only applied when no other quote character of either style remains.
- convert for loop to while loop (C, C++, JavaScript, TypeScript): the first
  `for (INIT; COND; STEP) {` whose body closes at a `}` of the same indent and
  contains no `continue` becomes `INIT;` / `while (COND) {` / body / `STEP;`.
- add parameter P: the first function definition gets P as its last
  parameter (typed as in the instruction for C, C++, Go).
- remove parameter P: a parameter that the code never uses elsewhere is
  removed from the first function definition.
- extract constant N as NAME: every whole-token occurrence of the number N
  becomes NAME and a definition line (language-specific) plus one blank line
  is put before the code.
- use let instead of var (JavaScript, TypeScript): `var` -> `let` (whole word).
"""
import re

KEYWORDS = set("""
auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while bool true false nullptr class public private protected
virtual template typename namespace using new delete this throw try catch operator friend
and or not in is def lambda pass yield import from as with global nonlocal assert del elif
except finally raise None True False self cls print function var let async await export
extends super typeof instanceof null undefined package func go defer select chan map range
type interface fallthrough fn mut pub impl trait mod use crate let match loop where Self
local then end nil repeat until elseif echo fi esac done endif endfor endwhile endfunction
call set let unlet exe execute normal return string str len int float dict list self
defined define include ifdef ifndef undef pragma error warning line
""".split())

NEW_NAMES = """total count result value item items index idx key keys name names data buf
buffer size length offset start stop begin end first last node parent child children
entry entries elem element line lines text msg message path paths file files config
options opts args params state status flag flags mode limit max_len min_len tmp temp
acc sum prev next cur current head tail left right lo hi row col width height pos
ctx context handle handler callback cb err error res ret out output input src dst
target source total_count num_items retries timeout delay counter accum sep prefix
suffix pattern matches found ok done visited queue stack seen cache pending""".split()

FUNC_RE = {
    "python": re.compile(r"^(\s*)(async\s+)?def\s+(\w+)\s*\((?P<params>[^()]*)\)(\s*->\s*[^:]+)?:\s*$"),
    "javascript": re.compile(r"^(\s*)(export\s+)?(async\s+)?function\s*\*?\s*(\w+)?\s*\((?P<params>[^()]*)\)\s*\{\s*$"),
    "typescript": re.compile(r"^(\s*)(export\s+)?(async\s+)?function\s*(\w+)?\s*(<[^>]*>)?\((?P<params>[^()]*)\)(\s*:\s*[^{]+)?\s*\{\s*$"),
    "lua": re.compile(r"^(\s*)(local\s+)?function\s+([\w.:]+)\s*\((?P<params>[^()]*)\)\s*$"),
    "go": re.compile(r"^func\s+(\([^()]*\)\s*)?(\w+)\((?P<params>[^()]*)\)(.*)\{\s*$"),
    "c": re.compile(r"^(?!\s)(?!.*\b(?:if|while|for|switch|return)\b)[\w\s\*]+?\b(\w+)\((?P<params>[^()]*)\)\s*\{?\s*$"),
    "rust": re.compile(r"^(\s*)(pub\s+)?fn\s+(\w+)\s*(<[^>]*>)?\((?P<params>[^()]*)\)(.*)\{\s*$"),
}
FUNC_RE["cpp"] = FUNC_RE["c"]


def word_re(w):
    """Regex for whole-word occurrences of identifier w."""
    return re.compile(r"(?<![\w$])" + re.escape(w) + r"(?![\w$])")


def identifiers(code):
    """Return {identifier: count} for identifier-like words in code (no keywords)."""
    counts = {}
    for w in re.findall(r"(?<![\w$])[A-Za-z_]\w*", code):
        if w not in KEYWORDS and len(w) >= 1:
            counts[w] = counts.get(w, 0) + 1
    return counts


def fresh_name(old, taken, rng):
    """Return a plausible new identifier not in taken (for renaming old)."""
    for _ in range(20):
        r = rng.random()
        if r < 0.55:
            new = rng.choice(NEW_NAMES)
        elif r < 0.7 and "_" in old:
            parts = old.split("_")
            new = parts[0] + "".join(p.title() for p in parts[1:])
        elif r < 0.85 and re.search(r"[a-z][A-Z]", old):
            new = re.sub(r"([a-z])([A-Z])", r"\1_\2", old).lower()
        else:
            new = old + rng.choice(["_new", "2", "_tmp", "Value", "_list", "_count", "s"])
        if old and old[0].isupper() and new[0].islower() and rng.random() < 0.7:
            new = new[0].upper() + new[1:]
        if new != old and new not in taken and new not in KEYWORDS:
            return new
    return None


def t_rename(code, lang, rng):
    """rename OLD to NEW (whole words everywhere)."""
    ids = identifiers(code)
    cands = [w for w, c in ids.items() if c >= 2 and len(w) >= 2]
    if not cands:
        return None
    old = rng.choice(cands)
    new = fresh_name(old, ids, rng)
    if new is None:
        return None
    return f"rename {old} to {new}", word_re(old).sub(new, code)


SIMPLE_SQ = re.compile(r"'([^'\"\\\n]*)'")
SIMPLE_DQ = re.compile(r"\"([^'\"\\\n]*)\"")


def t_quotes(code, lang, rng):
    """use double quotes / use single quotes (simple literals only)."""
    if lang not in ("python", "javascript", "typescript", "lua"):
        return None
    if SIMPLE_SQ.search(code) and not SIMPLE_SQ.sub("", code).count("'") \
            and not SIMPLE_SQ.sub("", code).count('"'):
        return "use double quotes", SIMPLE_SQ.sub(lambda m: f'"{m.group(1)}"', code)
    if SIMPLE_DQ.search(code) and not SIMPLE_DQ.sub("", code).count("'") \
            and not SIMPLE_DQ.sub("", code).count('"'):
        return "use single quotes", SIMPLE_DQ.sub(lambda m: f"'{m.group(1)}'", code)
    return None


FOR_RE = re.compile(r"^(\s*)for \(([^;()]*(?:\([^()]*\))?[^;()]*); ([^;]+); ([^;{}]+)\) \{\s*$")


def t_for_to_while(code, lang, rng):
    """convert for loop to while loop (C-like languages)."""
    if lang not in ("c", "cpp", "javascript", "typescript"):
        return None
    lines = code.split("\n")
    for i, line in enumerate(lines):
        m = FOR_RE.match(line)
        if not m or not m.group(2).strip():
            continue
        ind = m.group(1)
        end = next((j for j in range(i + 1, len(lines)) if lines[j] == ind + "}"), None)
        if end is None or end == i + 1:
            return None
        body = lines[i + 1:end]
        if any(re.search(r"\bcontinue\b", b) for b in body):
            return None
        if any(b.strip() and not b.startswith(ind) for b in body):
            return None
        bind = re.match(r"\s*", next(b for b in body if b.strip()) if any(b.strip() for b in body) else ind + "    ").group(0)
        new = lines[:i] + [f"{ind}{m.group(2).strip()};", f"{ind}while ({m.group(3).strip()}) {{"] \
            + body + [f"{bind}{m.group(4).strip()};", ind + "}"] + lines[end + 1:]
        return "convert for loop to while loop", "\n".join(new)
    return None


PARAM_NAMES = ["verbose", "timeout", "debug", "dry_run", "callback", "options", "force",
               "limit", "retries", "ctx", "strict", "quiet", "logger", "depth", "encoding"]


def _first_def(code, lang):
    rx = FUNC_RE.get(lang)
    if rx is None:
        return None, None
    lines = code.split("\n")
    for i, line in enumerate(lines):
        m = rx.match(line)
        if m:
            return i, m
    return None, None


def _typed_param(lang, name, rng):
    if lang in ("c", "cpp"):
        t = rng.choice(["int", "bool", "size_t", "const char *"]) if lang == "cpp" \
            else rng.choice(["int", "size_t", "const char *", "unsigned"])
        return f"{t} {name}" if not t.endswith("*") else f"{t}{name}"
    if lang == "go":
        return f"{name} {rng.choice(['bool', 'int', 'string', 'time.Duration'])}"
    if lang == "rust":
        return f"{name}: {rng.choice(['bool', 'usize', 'u32', '&str'])}"
    return name


def t_add_param(code, lang, rng):
    """add parameter P (to the first function definition)."""
    i, m = _first_def(code, lang)
    if m is None or "*" in m.group("params") and lang == "python" or "..." in m.group("params"):
        return None
    ids = identifiers(code)
    names = [n for n in PARAM_NAMES if n not in ids]
    if not names:
        return None
    if lang in ("go", "rust") or lang in ("c", "cpp"):
        names = [n.replace("_", "") if lang == "go" else n for n in names]
    p = _typed_param(lang, rng.choice(names), rng)
    params = m.group("params")
    if params.strip() in ("", "void"):
        newp = p
    else:
        newp = params.rstrip() + ", " + p
    lines = code.split("\n")
    s, e = m.span("params")
    lines[i] = lines[i][:s] + newp + lines[i][e:]
    return f"add parameter {p}", "\n".join(lines)


def t_remove_param(code, lang, rng):
    """remove parameter P (an unused one, from the first function definition)."""
    i, m = _first_def(code, lang)
    if m is None:
        return None
    if re.search(r"[{}\[\]()<>]", m.group("params")):   # commas would not split params
        return None
    params = [p.strip() for p in m.group("params").split(",")]
    if len(params) < 2 or any(not p for p in params):
        return None
    rest = "\n".join(l for j, l in enumerate(code.split("\n")) if j != i)
    cands = []
    for k, p in enumerate(params):
        words = re.findall(r"[A-Za-z_]\w*", p.split("=")[0].split(":")[0])
        if not words:
            continue
        name = words[-1] if lang != "go" else words[0]
        if lang == "go" and len(p.split()) < 2:         # `a, b int`: a has no own type
            continue
        if lang in ("c", "cpp") and (name.isupper() or "(" in p):   # macros, fn pointers
            continue
        if name in ("self", "cls") or name in KEYWORDS or word_re(name).search(rest):
            continue
        if sum(1 for q in params if word_re(name).search(q)) != 1:
            continue
        cands.append((k, name))
    if not cands:
        return None
    k, name = rng.choice(cands)
    newp = ", ".join(p for j, p in enumerate(params) if j != k)
    lines = code.split("\n")
    s, e = m.span("params")
    lines[i] = lines[i][:s] + newp + lines[i][e:]
    return f"remove parameter {name}", "\n".join(lines)


CONST_NAMES = ["LIMIT", "MAX_SIZE", "BUFFER_SIZE", "TIMEOUT", "MAX_RETRIES", "DEFAULT_PORT",
               "BLOCK_SIZE", "THRESHOLD", "BATCH_SIZE", "MAX_ITEMS", "PAGE_SIZE", "SCALE",
               "WIDTH", "HEIGHT", "OFFSET", "MAGIC", "CAPACITY", "STEP", "MAX_DEPTH", "PADDING"]
CONST_DEF = {"python": "{n} = {v}", "javascript": "const {n} = {v};",
             "typescript": "const {n} = {v};", "c": "#define {n} {v}", "cpp": "constexpr int {n} = {v};",
             "go": "const {n} = {v}", "lua": "local {n} = {v}", "rust": "const {n}: i64 = {v};"}
NUM_RE = re.compile(r"(?<![\w.$])(\d+)(?![\w.])")


def t_extract_const(code, lang, rng):
    """extract constant N as NAME."""
    if lang not in CONST_DEF:
        return None
    nums = [n for n in NUM_RE.findall(code) if n not in ("0", "1") and not n.startswith("0")]
    if not nums:
        return None
    v = rng.choice(nums)
    taken = identifiers(code)
    names = [n for n in CONST_NAMES if n not in taken]
    if not names:
        return None
    name = rng.choice(names)
    rx = re.compile(r"(?<![\w.$])" + v + r"(?![\w.])")
    body = rx.sub(name, code)
    return f"extract constant {v} as {name}", CONST_DEF[lang].format(n=name, v=v) + "\n\n" + body


def t_var_to_let(code, lang, rng):
    """use let instead of var (JavaScript, TypeScript)."""
    if lang not in ("javascript", "typescript") or not word_re("var").search(code):
        return None
    return "use let instead of var", word_re("var").sub("let", code)


# (transform, weight); rename dominates because it is the acceptance test.
TRANSFORMS = [(t_rename, 0.5), (t_quotes, 0.1), (t_for_to_while, 0.08), (t_add_param, 0.1),
              (t_remove_param, 0.06), (t_extract_const, 0.12), (t_var_to_let, 0.04)]


def make_refactor(code, lang, rng):
    """Return (instruction, rewritten) from a weighted random applicable
    transform, trying the others in weighted order; None if none applies or
    the result equals the input."""
    order = sorted(TRANSFORMS, key=lambda tw: rng.random() ** (1.0 / tw[1]), reverse=True)
    for t, _ in order:
        r = t(code, lang, rng)
        if r is not None and r[1] != code:
            return r
    return None
