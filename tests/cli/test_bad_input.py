#!/usr/bin/python3
"""The bad-input catalogue (tests/cli/bad_input_catalogue.py): every class of invalid input — each
configuration key (a value of the wrong type, and a value out of range), each CLI flag, each kind
of file the tool reads (YAML, .npy, .npz, CSV, IDX, parameter files, train targets, checkpoints,
snapshots, ensemble cells, manifests) and sizes that do not fit — must end with exit status 2,
exactly one line on stderr equal to the catalogue's message (with {T} standing for this test's
temporary directory), and no run directory that looks complete (no manifest.json left by it).

usage: test_bad_input.py PATH/TO/ntkdrift [--record]
  --record: rewrite tests/cli/bad_input_catalogue.py with the messages the binary gives now (review the
            diff before committing: every message must name the key, flag or file and the problem).
"""
import gzip, io, json, os, pprint, shutil, struct, subprocess, sys, tempfile, zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bad_input_catalogue as cat
from clitest import check, finish

BIN = sys.argv[1]
RECORD = "--record" in sys.argv[2:]
TMP = tempfile.mkdtemp(prefix="ntk_bad_")

# Small runs, so a case that is wrongly accepted still ends quickly.
BASE = {"kernel": ["--depth", "1", "--width", "8", "--n", "6"],
        "limit": ["--depth", "1", "--n", "6"],
        "train": ["--depth", "1", "--width", "8", "--n", "6", "--steps", "2"],
        "converge": ["--depths", "1", "--widths", "8", "--seeds", "0:2", "--n", "6"],
        "profile": ["--depths", "1", "--widths", "8", "--seeds", "0:2", "--n", "6"],
        "ensemble": ["--depths", "1", "--widths", "8", "--members", "4", "--no-updates"],
        "sweep": ["--depths", "1", "--widths", "8", "--lr-fracs", "0.5", "--steps", "2", "--n", "6"],
        "study": ["--quick", "--steps", "2"],
        "eval": ["--depth", "1", "--width", "8", "--n", "6"]}


def T(name):
    return os.path.join(TMP, name)


def npy_bytes(arr):
    b = io.BytesIO()
    np.save(b, arr)
    return b.getvalue()


def npy_with_header(header, payload=b""):
    """A .npy with a hand-written header dict (for shapes and dtypes numpy would not write)."""
    h = header.encode() + b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + payload


def write(name, data):
    with open(T(name), "wb" if isinstance(data, bytes) else "w") as fh:
        fh.write(data)


def idx_bytes(magic_type, dims, payload):
    return struct.pack(">HBB", 0, magic_type, len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + payload


def fmnist_dir(name, images=None, labels=None, raw=None):
    """A Fashion-MNIST directory with valid small files, one of them replaced."""
    d = T(name)
    os.makedirs(d)
    img = idx_bytes(0x08, [20, 28, 28], bytes(20 * 784))
    lab = idx_bytes(0x08, [20], bytes(range(10)) * 2)
    files = {"train-images-idx3-ubyte.gz": images if images is not None else gzip.compress(img),
             "train-labels-idx1-ubyte.gz": labels if labels is not None else gzip.compress(lab),
             "t10k-images-idx3-ubyte.gz": gzip.compress(img), "t10k-labels-idx1-ubyte.gz": gzip.compress(lab)}
    for f, b in files.items():
        with open(os.path.join(d, f), "wb") as fh:
            fh.write(raw if raw is not None and f.startswith("train-images") else b)


def stopped_train_run(name, damage):
    """A train run stopped after its first checkpoint (manifest removed), then damaged."""
    out = T(name)
    subprocess.run([BIN, "train", "--out", out, "--depth", "1", "--width", "8", "--n", "6", "--steps", "4",
                    "--snapshots", "0,2,4"], capture_output=True, check=True)
    for f in ("manifest.json", "run_info.json"):
        os.remove(os.path.join(out, f))
    damage(out)


def truncate(path, keep=0.5):
    data = open(path, "rb").read()
    with open(path, "wb") as fh:
        fh.write(data[: int(len(data) * keep)])


def make_files():
    good = npy_bytes(np.ones((6, 3)))
    # YAML
    write("malformed.yaml", "model: [unclosed\n")
    write("y.npy", npy_bytes(np.arange(6.0)))
    write("unknown_key.yaml", "model:\n  depthh: 3\n")
    write("unknown_section.yaml", "modle:\n  depth: 3\n")
    write("not_mapping.yaml", "- just\n- a list\n")
    write("scalar_section.yaml", "model: 3\n")
    write("binary.yaml", b"\x00\xff\xfe\x93binary junk\x01")
    write("alias.yaml", "model: &m\n  depth: 1\ndata: *m\n")
    write("deep.yaml", "model:\n  depth:\n" + "".join("  " * (i + 2) + "- \n" for i in range(50)))
    write("huge_number.yaml", "model:\n  depth: 99999999999999999999999\n")
    write("duplicate.yaml", "model:\n  depth: 1\n  depth: 2\n")
    # .npy data
    write("garbage.npy", "this is not an npy file at all, just text\n")
    write("truncated.npy", good[: len(good) - 20])
    write("wrong_magic.npy", b"\x93NUMPX" + good[6:])
    write("three_d.npy", npy_bytes(np.ones((2, 3, 4))))
    x = np.ones((6, 3))
    x[2, 1] = np.nan
    write("nan.npy", npy_bytes(x))
    x[2, 1] = np.inf
    write("inf.npy", npy_bytes(x))
    write("huge_shape.npy", npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }"))
    write("negative_dim.npy", npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (-3, 3), }", bytes(72)))
    write("overflow_shape.npy", npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967297), }"))
    write("complex.npy", npy_bytes(np.ones((6, 3), dtype=np.complex128)))
    write("object.npy", npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (6, 3), }", bytes(144)))
    write("zero_rows.npy", npy_bytes(np.ones((0, 3))))
    write("header_past_end.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr'")
    # .npz data
    write("not_zip.npz", "PK but not really a zip archive\n")
    np.savez(T("no_X.npz"), Y=np.ones((6, 3)))
    with zipfile.ZipFile(T("bad_member.npz"), "w") as z:
        z.writestr("X.npy", good[:40])
    with zipfile.ZipFile(T("empty.npz"), "w"):
        pass
    # CSV
    write("ragged.csv", "1,2,3\n4,5\n")
    write("text.csv", "1,2,3\n4,five,6\n")
    write("empty.csv", "")
    write("nan.csv", "1,2,3\n4,nan,6\n")
    write("inf.csv", "1,2,3\n4,inf,6\n")
    write("header_only.csv", "a,b,c\n")
    # IDX (Fashion-MNIST directory)
    fmnist_dir("idx_wrong_magic", images=gzip.compress(b"\x00\x01\x08\x03" + bytes(100)))
    noise = np.random.default_rng(0).bytes(20 * 784)  # incompressible, so cutting the stream cuts the data
    truncated_gz = gzip.compress(idx_bytes(0x08, [20, 28, 28], noise))
    fmnist_dir("idx_truncated_gz", images=truncated_gz[: len(truncated_gz) // 2])
    fmnist_dir("idx_overflow", images=gzip.compress(idx_bytes(0x08, [4294967295, 4294967295, 28], b"")))
    fmnist_dir("idx_wrong_type", images=gzip.compress(idx_bytes(0x0D, [20, 28, 28], bytes(20 * 784 * 4))))
    fmnist_dir("idx_label_count", labels=gzip.compress(idx_bytes(0x08, [7], bytes(7))))
    fmnist_dir("idx_not_gzip", raw=b"plain text, no gzip and no idx\n")
    # parameter files
    np.savez(T("wrong_shape_params.npz"), W1=np.ones((8, 3)), b1=np.ones(8), W2=np.ones((1, 7)), b2=np.ones(1))
    np.savez(T("nan_params.npz"), W1=np.full((8, 16), np.nan), b1=np.ones(8), W2=np.ones((1, 8)), b2=np.ones(1))
    np.savez(T("missing_member_params.npz"), W1=np.ones((8, 16)), b1=np.ones(8))
    np.savez(T("bias_params.npz"), W1=np.ones((8, 16)), b1=np.ones(8), W2=np.ones((1, 8)), b2=np.ones(1))
    # train targets
    write("target_short.npy", npy_bytes(np.ones(4)))
    write("target_nan.npy", npy_bytes(np.full(6, np.nan)))
    write("target_3d.npy", npy_bytes(np.ones((6, 1, 1))))
    # stopped runs with damaged state
    stopped_train_run("ckpt_truncated", lambda d: truncate(os.path.join(d, "checkpoint.npz")))

    def short_theta(d):
        z = dict(np.load(os.path.join(d, "checkpoint.npz")))
        z["theta"] = z["theta"][:5]
        np.savez(os.path.join(d, "checkpoint.npz"), **z)
    stopped_train_run("ckpt_theta", short_theta)

    def set_member(name, value):
        def damage(d):
            z = dict(np.load(os.path.join(d, "checkpoint.npz")))
            z[name] = np.asarray(value, dtype=float)
            np.savez(os.path.join(d, "checkpoint.npz"), **z)
        return damage
    stopped_train_run("ckpt_step_nan", set_member("step", [np.nan]))
    stopped_train_run("ckpt_step_big", set_member("step", [1e30]))
    stopped_train_run("ckpt_maxstep", set_member("losses", [1.0, 2.0, -3.5]))
    stopped_train_run("ckpt_format", set_member("format", [3.0]))
    stopped_train_run("snap_truncated", lambda d: truncate(os.path.join(d, "snapshots", "snap_0000000002.npz")))
    stopped_train_run("config_damaged", lambda d: write(os.path.join(d, "config.yaml"), "model: [\n"))
    ens = T("ens_cell")
    subprocess.run([BIN, "ensemble", "--out", ens, *BASE["ensemble"], "--depths", "1,2"], capture_output=True,
                   check=True)
    for f in ("manifest.json", "run_info.json"):
        os.remove(os.path.join(ens, f))
    truncate(os.path.join(ens, "cells", "cell_00000.npz"))
    # manifests
    run = T("bad_manifest")
    subprocess.run([BIN, "kernel", "--out", run, *BASE["kernel"]], capture_output=True, check=True)
    write(os.path.join(run, "manifest.json"), "{ not json")
    os.makedirs(T("no_manifest"))
    write("study_widths.yaml", "study:\n  widths: [0, 8]\n")


def no_complete_run(root):
    for dirpath, _, files in os.walk(root):
        if "manifest.json" in files:
            return dirpath
    return None


def run(command, args, root):
    args = [a.replace("{T}", TMP).replace("{LONG}", "x" * 5000) for a in args]
    cmd = [BIN, command] + (["--results", root] if command not in ("plot", "report", "spectra", "frobnicate") else []) + args
    r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    return r.returncode, lines


def judge(label, command, args, expected, root):
    rc, lines = run(command, args, root)
    got = lines[0].replace(TMP, "{T}") if lines else ""
    problems = []
    if rc != 2:
        problems.append(f"exit {rc} (want 2)")
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr (want 1): {lines[:3]}")
    if got != expected and not RECORD:
        problems.append(f"message\n       got  {got!r}\n       want {expected!r}")
    left = no_complete_run(root) if os.path.exists(root) else None
    if left:
        problems.append(f"left a complete-looking run in {left}")
    check(not problems, f"{label}: " + ("; ".join(problems) if problems else got))
    return got


def with_base(command, args):
    """args plus the command's small-run flags that args does not set itself."""
    given = {a.split("=")[0] for a in args if a.startswith("--")}
    if given & {"--width", "--widths"}:
        given |= {"--width", "--widths"}
    base, out = BASE.get(command, []), []
    i = 0
    while i < len(base):
        flag = base[i]
        takes_value = i + 1 < len(base) and not base[i + 1].startswith("--")
        if flag not in given:
            out += base[i:i + (2 if takes_value else 1)]
        i += 2 if takes_value else 1
    return out + args  # args last: a flag missing its value stays last


def config_args(i, command, section, key, value):
    cfg = T(f"cfg{i}.yaml")
    with open(cfg, "w") as fh:
        fh.write(f"{section}:\n  {key}: {value}\n")
    base = list(BASE[command])
    # the case's own key must not be overridden by a flag of the base arguments
    for flag in {"--" + key.replace("_", "-")} | ({"--width"} if key == "widths" else set()):
        if flag in base:
            j = base.index(flag)
            del base[j:j + 2]
    return ["--config", "{T}/" + f"cfg{i}.yaml"] + base


def main():
    make_files()
    config, flags, files = [], [], []
    for i, (command, section, key, value, expected) in enumerate(cat.CONFIG):
        got = judge(f"config {section}.{key} = {value!r}", command, config_args(i, command, section, key, value),
                    expected, T(f"rc{i}"))
        config.append((command, section, key, value, got))
    for i, (command, args, expected) in enumerate(cat.FLAGS):
        got = judge(f"flag {command} {' '.join(args)}", command, with_base(command, args), expected, T(f"rf{i}"))
        flags.append((command, args, got))
    for i, (kind, command, args, expected) in enumerate(cat.FILES):
        got = judge(f"file {kind}: {command} {' '.join(args)}", command, args, expected, T(f"rd{i}"))
        files.append((kind, command, args, got))
    if RECORD:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad_input_catalogue.py")
        head = open(path).read().split("\nCONFIG = [")[0]
        with open(path, "w") as fh:
            fh.write(head)
            for name, rows in (("CONFIG", config), ("FLAGS", flags), ("FILES", files)):
                fh.write(f"\n{name} = [\n")
                for row in rows:
                    fh.write("    " + pprint.pformat(row, width=200, compact=True) + ",\n")
                fh.write("]\n")
        print(f"recorded {len(config) + len(flags) + len(files)} cases into {path}")
    # An --out directory that already holds a complete run is refused and left intact.
    out = T("done_run")
    r1 = subprocess.run([BIN, "kernel"] + BASE["kernel"] + ["--out", out], capture_output=True, text=True)
    before = open(os.path.join(out, "manifest.json")).read() if r1.returncode == 0 else None
    r2 = subprocess.run([BIN, "kernel"] + BASE["kernel"] + ["--seed", "9", "--out", out], capture_output=True,
                        text=True)
    check(r1.returncode == 0 and r2.returncode == 2 and "already holds" in r2.stderr and
          open(os.path.join(out, "manifest.json")).read() == before,
          f"an --out directory holding a complete run is refused and left intact: {r2.stderr.strip()}")
    finish(TMP)


main()
