#!/usr/bin/python3
"""The stream registry against the sources (include/ntkdrift.h, "rng"; docs/conventions.md).

- The registry (ntk_rng_streams, listed by `test_rng --list`) and the header's enum hold the same
  names with the same ids, and docs/conventions.md's table lists every one with its id.
- In src/ and cli/ (comments and strings removed) every NTK_STREAM_* name is a registry name and is
  never an operand of arithmetic (NTK_STREAM_X + 1 is some other stream's id); the stream argument of
  every ntk_rng_normal / ntk_rng_uniform call is a registry name or the pass-through parameter
  `stream` of a function that takes one, and that of every ntk_lazy_pair call is a registry name (no
  raw integers, no expressions).
- Each stream is named only by its consumer ("file:function") or by static helpers of that file
  that only the consumer reaches, so no two consumers share a stream; a reserved stream (consumer
  "") is named nowhere, every other one somewhere.
- The checker finds what it must: a sample source with each violation is rejected.

usage: test_rng_streams.py PATH/TO/test_rng
"""
import os, re, subprocess, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))  # tests/cli/clitest.py
from clitest import check, finish

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/DOMAIN/this.py
REGISTRY_FILE = "src/core/rng_streams.c"  # the table itself names every stream
ARITH_BEFORE = re.compile(r"(?:[-+*/%|&^~]|<<|>>)=?$")
ARITH_AFTER = re.compile(r"^(?:\+|-(?!>)|\*|/|%|\|(?!\|)|&(?!&)|\^|<<|>>)")
NAME = re.compile(r"\bNTK_STREAM_\w+\b")


def strip(src):
    """Comments, string and character literals and preprocessor lines blanked, newlines kept."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        else:
            out.append(c)
            i += 1
    text = "".join(out)
    lines = text.split("\n")
    k = 0
    while k < len(lines):  # preprocessor lines, with their continuations
        if lines[k].lstrip().startswith("#"):
            while True:
                cont = lines[k].rstrip().endswith("\\")
                lines[k] = " " * len(lines[k])
                if not cont or k + 1 >= len(lines):
                    break
                k += 1
        k += 1
    return "\n".join(lines)


def functions(text):
    """[(name, static, params, start, end)] of the function definitions in stripped text."""
    out, depth, last, start = [], 0, 0, None
    for i, c in enumerate(text):
        if c == "{":
            if depth == 0:
                head = text[last:i]
                m = re.search(r"(\w+)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*$", head)
                start = (m.group(1), re.search(r"\bstatic\b", head) is not None, m.group(2), i) if m else None
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                if start:
                    out.append(start + (i,))
                start, last = None, i + 1
        elif c == ";" and depth == 0:
            last = i + 1
    return out


def call_args(text, pos):
    """Top-level arguments of the call whose '(' is at text[pos]."""
    args, depth, cur = [], 0, ""
    for c in text[pos + 1:]:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append(cur.strip())
                return args
            depth -= 1
        if c == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
        else:
            cur += c
    return args


def scan(files, registry):
    """Problems found in {relpath: source}, given registry {name: (id, consumer)}."""
    problems, uses = [], {}
    for rel, src in sorted(files.items()):
        text = strip(src)
        funcs = functions(text)
        line = lambda p: text.count("\n", 0, p) + 1
        where = lambda p: next((f for f in funcs if f[3] < p < f[4]), None)
        # in-file call graph: callers[g] = functions of this file whose bodies call g
        names = {f[0] for f in funcs}
        callers = {g: set() for g in names}
        for f in funcs:
            for m in re.finditer(r"\b(\w+)\s*\(", text[f[3]:f[4]]):
                if m.group(1) in names and m.group(1) != f[0]:
                    callers[m.group(1)].add(f[0])
        static = {f[0]: f[1] for f in funcs}
        for m in NAME.finditer(text):
            name, p = m.group(0), m.start()
            if name not in registry:
                problems.append(f"{rel}:{line(p)}: {name} is not in the registry")
                continue
            before, after = text[:p].rstrip(), text[m.end():].lstrip()
            if ARITH_BEFORE.search(before) and not re.search(r"(?:==|!=|<=|>=|&&|\|\|)$", before) or \
                    ARITH_AFTER.match(after):
                problems.append(f"{rel}:{line(p)}: arithmetic on {name} (a stream id is never computed)")
            f = where(p)
            uses.setdefault(name, []).append((rel, f[0] if f else None, static, callers, line(p)))
        for fn, argi in (("ntk_rng_normal", 1), ("ntk_rng_uniform", 1), ("ntk_lazy_pair", 4)):
            for m in re.finditer(r"\b%s\s*\(" % fn, text):
                f = where(m.start())
                if f is None:
                    continue  # a declaration
                args = call_args(text, m.end() - 1)
                a = args[argi] if len(args) > argi else ""
                passthrough = fn != "ntk_lazy_pair" and a == "stream" and \
                    re.search(r"\buint32_t\s+stream\b", f[2]) is not None
                if not (a in registry or passthrough):
                    problems.append(f"{rel}:{line(m.start())}: {fn} stream argument '{a}' is not a registry "
                                    f"name{'' if fn == 'ntk_lazy_pair' else ' (nor the parameter stream)'}")
    for name, (sid, consumer) in sorted(registry.items()):
        found = uses.get(name, [])
        if not consumer:
            for rel, fn, _, _, ln in found:
                problems.append(f"{rel}:{ln}: {name} is reserved (no consumer) but used in {fn}")
            continue
        if not found:
            problems.append(f"{name}: its consumer {consumer} does not use it")
        cfile, cfunc = consumer.split(":")
        for rel, fn, static, callers, ln in found:
            def reaches(g, seen=()):
                """g is the consumer, or a static helper of its file that only the consumer reaches."""
                if g == cfunc:
                    return True
                if g is None or not static.get(g) or not callers.get(g) or g in seen:
                    return False
                return all(reaches(h, seen + (g,)) for h in callers[g])
            if rel != cfile or not reaches(fn):
                problems.append(f"{rel}:{ln}: {name} used in {fn or 'file scope'}, but its one consumer is {consumer}")
    return problems


def registry_from(binary):
    r = subprocess.run([binary, "--list"], capture_output=True, text=True, check=True)
    reg = {}
    for row in r.stdout.splitlines():
        sid, name, consumer = (row.split("\t") + [""])[:3]
        reg[name] = (int(sid), consumer)
    return reg


def header_enum():
    text = strip(open(os.path.join(ROOT, "include/ntkdrift.h")).read())
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"\b(NTK_STREAM_\w+)\s*=\s*(\d+)", text)}


def sources():
    files = {}
    for top in ("src", "cli"):
        for d, _, fs in os.walk(os.path.join(ROOT, top)):
            for f in fs:
                if f.endswith((".c", ".h")):
                    rel = os.path.relpath(os.path.join(d, f), ROOT)
                    if rel != REGISTRY_FILE:
                        files[rel] = open(os.path.join(d, f)).read()
    return files


REG = registry_from(sys.argv[1])
hdr = header_enum()
check(hdr == {k: v[0] for k, v in REG.items()},
      f"the header's enum and the registry agree ({len(hdr)} streams; "
      f"only in header {sorted(set(hdr) - set(REG))}, only in registry {sorted(set(REG) - set(hdr))})")
check(len(set(hdr.values())) == len(hdr) and 0 not in hdr.values(), "header ids distinct and nonzero")
doc = open(os.path.join(ROOT, "docs/conventions.md")).read()
missing = [n for n, (i, _) in REG.items() if not re.search(r"\|\s*`%s`\s*\|\s*%d\s*\|" % (n, i), doc)]
check(not missing, f"docs/conventions.md's table lists every stream with its id (missing {missing})")
for name, (_, consumer) in REG.items():
    if consumer:
        f = open(os.path.join(ROOT, consumer.split(":")[0])).read()
        check(re.search(r"\b%s\s*\(" % consumer.split(":")[1], f) is not None, f"{name}: consumer {consumer} exists")

problems = scan(sources(), REG)
for p in problems:
    print("     " + p)
check(not problems, f"src/ and cli/: every stream named only by its consumer, no arithmetic, no raw ids "
                    f"({len(problems)} problems)")

# The checker itself: each kind of violation in a sample file is reported.
TOY = {"NTK_STREAM_A": (5, "src/a.c:draw"), "NTK_STREAM_B": (6, "src/a.c:other"), "NTK_STREAM_R": (7, "")}
ok_src = """/* NTK_STREAM_A + 1 in a comment is fine */
static void helper(double *u) { ntk_rng_uniform(1, NTK_STREAM_A, 0, 0, 4, u); }
void draw(double *u) { helper(u); }
void other(double *u) { ntk_rng_normal(1, NTK_STREAM_B, 0, 0, 4, u); }
void pass(uint32_t stream, double *u) { ntk_rng_normal(1, stream, 0, 0, 4, u); }
"""
check(scan({"src/a.c": ok_src}, TOY) == [], f"checker: a clean sample passes {scan({'src/a.c': ok_src}, TOY)}")
bad = [  # (what, src/a.c's text or None for the two-file case, what the report must say)
    ("arithmetic", ok_src.replace("NTK_STREAM_B, 0", "NTK_STREAM_A + 1, 0"), "arithmetic on NTK_STREAM_A"),
    ("arithmetic before", ok_src.replace("NTK_STREAM_B, 0", "1 + NTK_STREAM_A, 0"), "arithmetic on NTK_STREAM_A"),
    ("raw literal", ok_src.replace("NTK_STREAM_B, 0", "25, 0"), "argument '25'"),
    ("raw literal to ntk_lazy_pair", ok_src + "void p2(void) { ntk_lazy_pair(s, x, y, 1, 25, 0, w, &m); }\n",
     "ntk_lazy_pair stream argument '25'"),
    ("variable stream without parameter",
     ok_src.replace("void pass(uint32_t stream,", "void pass(int k,").replace("(1, stream,", "(1, k,"), "argument 'k'"),
    ("two consumers share a stream",
     ok_src + "void third(double *u) { ntk_rng_normal(1, NTK_STREAM_B, 9, 0, 4, u); }\n", "NTK_STREAM_B used in third"),
    ("a helper reached by another function", ok_src + "void third(double *u) { helper(u); }\n",
     "NTK_STREAM_A used in helper"),
    ("consumer in another file", None, "cli/b.c:1: NTK_STREAM_A used in draw"),
    ("reserved stream used", ok_src.replace("NTK_STREAM_B, 0", "NTK_STREAM_R, 0"), "NTK_STREAM_R is reserved"),
    ("unknown stream", ok_src.replace("NTK_STREAM_B, 0", "NTK_STREAM_Q, 0"), "NTK_STREAM_Q is not in the registry"),
    ("unused stream", ok_src.replace("ntk_rng_normal(1, NTK_STREAM_B, 0, 0, 4, u);", ""), "does not use it"),
]
for what, src, expect in bad:
    files = {"src/a.c": ok_src, "cli/b.c": "void draw(double *u) { ntk_rng_uniform(1, NTK_STREAM_A, 0, 0, 4, u); }\n"} \
        if src is None else {"src/a.c": src}
    found = [p for p in scan(files, TOY) if expect in p]
    check(found != [], f"checker rejects: {what} ({found[0] if found else 'not found'})")

finish("")
