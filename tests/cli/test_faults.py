#!/usr/bin/python3
"""Faults of the file system: a full disk, a read-only and an unreadable output directory.

The test re-runs itself in a private mount namespace (`unshare -m`, or `unshare -Urm` without root)
and mounts small tmpfs file systems there, so nothing outside is touched.

- Full disk, for train (two fill levels: early and late failure), sweep, ensemble and kernel (the
  in-memory .npz and the tiled path's pre-check): the run stops with exit 1 and a message that names
  the file and says "No space left on device"; nothing left in the directory looks valid when it is
  not — no manifest.json, no temp file, every .npz/.npy present opens completely; once space is freed,
  --resume (kernel: the same command again) finishes, and the result is byte-identical to an
  uninterrupted run (every file but manifest.json and run_info.json, which hold wall times).
- SIGKILL at random moments (seeded, printed; NTK_FAULT_SEED repeats a run) of train, sweep and
  ensemble, twice in a row (the second time while resuming), then --resume: byte-identical.
- Read-only: --out and --results on a read-only file system, and --resume of a stopped run whose file
  system has become read-only, fail with one message saying "Read-only file system"; the stopped run's
  files are unchanged.
- Unreadable (as root: the runs are made as user nobody): an output directory inside a directory
  nobody may enter, an unreadable --config, an unreadable run directory given to --resume — one
  message with "Permission denied" each.

usage: test_faults.py PATH/TO/ntkdrift        (exit 77: no mount namespace here; ctest shows SKIP)
"""
import os, random, shutil, signal, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.abspath(sys.argv[1])

if "--inside" not in sys.argv:
    root = os.getuid() == 0
    cmd = (["unshare", "-m", "--propagation", "private"] if root else ["unshare", "-Urm"]) + \
        [sys.executable, os.path.abspath(__file__), BIN, "--inside"] + (["--real-root"] if root else [])
    probe = subprocess.run(cmd[:cmd.index(sys.executable)] + ["true"], capture_output=True)
    if probe.returncode != 0:
        print(f"SKIP: no private mount namespace here ({probe.stderr.decode().strip()})")
        sys.exit(77)
    sys.exit(subprocess.run(cmd).returncode)

import numpy as np

sys.path.insert(0, HERE)
from clitest import check, finish, same_tree

REAL_ROOT = "--real-root" in sys.argv
TMP = tempfile.mkdtemp(prefix="ntk_faults_")
os.chmod(TMP, 0o755)  # user nobody must reach the copy of the binary below


def mount_tmpfs(path, size_mb, ro=False):
    os.makedirs(path, exist_ok=True)
    opts = f"size={size_mb}m" + (",ro" if ro else "")
    subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path], check=True)


def ntk(*args, user=None):
    pre = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if user == "nobody" else []
    return subprocess.run(pre + [BIN, *args], capture_output=True, text=True)


def tree_bytes(d):
    return sum(os.path.getsize(os.path.join(p, f)) for p, _, fs in os.walk(d) for f in fs)


def fill(disk, leave):
    """Fill the tmpfs at disk so that about `leave` bytes stay free."""
    sv = os.statvfs(disk)
    free = sv.f_bavail * sv.f_frsize
    with open(os.path.join(disk, "filler"), "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


def unfill(disk):
    os.remove(os.path.join(disk, "filler"))


def sound(run):
    """What is left of a stopped run: no manifest.json of its own (finished sweep cells inside keep
    theirs: they are complete runs), no temp files, every array file opens completely."""
    problems = ["manifest.json present"] if os.path.exists(os.path.join(run, "manifest.json")) else []
    for p, _, fs in os.walk(run):
        for f in fs:
            full = os.path.join(p, f)
            if ".tmp." in f:
                problems.append(f"temp file {f} left")
            try:
                if f.endswith(".npz"):
                    z = np.load(full)
                    for k in z.files:
                        z[k]
                elif f.endswith(".npy"):
                    np.load(full)
            except Exception as e:  # a truncated array file that looks like an artifact
                problems.append(f"{f}: {e}")
    return problems


def error_line(r):
    lines = [l for l in r.stderr.splitlines() if l.startswith("ntkdrift: ") and "note:" not in l]
    return lines[0] if lines else r.stderr.strip()[:200]


def disk_full(tag, command, args, frac, resumable=True):
    ref = os.path.join(TMP, "ref_" + tag)
    r = ntk(command, "--out", ref, *args)
    if r.returncode != 0:
        check(False, f"{tag}: reference run failed: {r.stderr.strip()[-300:]}")
        return
    disk = os.path.join(TMP, "disk_" + tag)
    mount_tmpfs(disk, 64)
    out = os.path.join(disk, "run")
    fill(disk, int(frac * tree_bytes(ref)))
    r = ntk(command, "--out", out, *args)
    msg = error_line(r)
    if r.returncode == 0 and "figures not drawn" in r.stderr:
        # the space ran out while drawing the figures, after the run itself was complete
        check(os.path.exists(os.path.join(out, "manifest.json")) and "No space left on device" in msg,
              f"{tag}: disk full while drawing figures: the complete run says so ({msg})")
        unfill(disk)
        r = ntk("plot", out)
    else:
        check(r.returncode == 1 and "No space left on device" in msg,
              f"{tag}: disk full with {frac:.0%} of the run's bytes free: exit {r.returncode}, {msg}")
        problems = sound(out) if os.path.isdir(out) else []
        check(not problems, f"{tag}: nothing left looks valid when it is not ({problems or 'clean'})")
        unfill(disk)
        if resumable:
            check(os.path.exists(os.path.join(out, "config.yaml")), f"{tag}: the stopped run is kept for --resume")
            r = ntk(command, "--resume", out)
        else:
            r = ntk(command, "--out", out, *args)
    diff = same_tree(ref, out) if r.returncode == 0 else r.stderr.strip()[-300:]
    check(diff is None, f"{tag}: after freeing space, the run ends byte-identical to the uninterrupted run "
                        f"({diff or 'every file'})")
    subprocess.run(["umount", disk])


def test_disk_full():
    train = ["--depth", "2", "--width", "64", "--data", "circle", "--n", "32", "--steps", "300",
             "--snapshots", "every:20", "--checkpoint-every", "60", "--threads", "1"]
    for frac in (0.25, 0.5, 0.75):  # the space runs out at three different points
        disk_full(f"train_{frac:g}", "train", train, frac)
    sweep = ["--depths", "1", "--widths", "16,32", "--lr-fracs", "0.5", "--steps", "200", "--data", "circle",
             "--n", "16", "--snapshots", "every:50", "--threads", "1"]
    disk_full("sweep", "sweep", sweep, 0.5)
    ens = ["--depths", "2,4,6", "--widths", "16,32", "--members", "2000", "--threads", "1"]
    disk_full("ensemble", "ensemble", ens, 0.5)
    kern = ["--data", "gaussian", "--n", "400", "--depth", "2", "--width", "32", "--per-layer"]
    disk_full("kernel", "kernel", kern, 0.5, resumable=False)
    # tiled: K.npy larger than the free space is refused before any work (exit 2, says what fits)
    disk = os.path.join(TMP, "disk_tiled")
    mount_tmpfs(disk, 8)
    r = ntk("kernel", "--data", "gaussian", "--n", "2000", "--depth", "1", "--width", "8", "--tile-rows", "100",
            "--out", os.path.join(disk, "run"))
    check(r.returncode == 2 and "on disk" in error_line(r) and not os.path.exists(os.path.join(disk, "run")),
          f"kernel tiled: K.npy (32 MB) on an 8 MB file system refused at once: {error_line(r)}")
    subprocess.run(["umount", disk])


def digest(d):
    return {os.path.relpath(os.path.join(p, f), d): open(os.path.join(p, f), "rb").read()
            for p, _, fs in os.walk(d) for f in fs}


def test_read_only():
    ro = os.path.join(TMP, "ro")
    mount_tmpfs(ro, 1, ro=True)
    r = ntk("kernel", "--n", "8", "--out", os.path.join(ro, "run"))
    check(r.returncode != 0 and "Read-only file system" in error_line(r), f"--out on a read-only fs: {error_line(r)}")
    r = ntk("train", "--steps", "5", "--results", os.path.join(ro, "results"))
    check(r.returncode != 0 and "Read-only file system" in error_line(r),
          f"--results on a read-only fs: {error_line(r)}")
    # a stopped run whose file system became read-only: --resume fails clearly and changes nothing
    disk = os.path.join(TMP, "disk_ro")
    mount_tmpfs(disk, 16)
    out = os.path.join(disk, "run")
    args = ["--depth", "1", "--width", "32", "--n", "16", "--steps", "100", "--snapshots", "every:10",
            "--threads", "1"]
    fill(disk, 40000)
    ntk("train", "--out", out, *args)
    unfill(disk)
    subprocess.run(["mount", "-o", "remount,ro", disk], check=True)
    before = digest(out)
    r = ntk("train", "--resume", out)
    check(r.returncode != 0 and "Read-only file system" in error_line(r) and digest(out) == before,
          f"--resume of a run on a now read-only fs: exit {r.returncode}, {error_line(r)}; files unchanged")
    subprocess.run(["umount", disk])
    subprocess.run(["umount", ro])


def test_unreadable():
    if not REAL_ROOT:
        print("note: not root: the unreadable-directory cases need a second user; skipped")
        return
    global BIN
    bindir = os.path.join(TMP, "bin")
    os.makedirs(bindir)
    shutil.copy(BIN, os.path.join(bindir, "ntkdrift"))
    os.chmod(bindir, 0o755)
    BIN = os.path.join(bindir, "ntkdrift")
    locked = os.path.join(TMP, "locked")
    os.makedirs(locked)
    os.chmod(locked, 0o700)  # root's; nobody may not enter
    r = ntk("kernel", "--n", "8", "--out", os.path.join(locked, "run"), user="nobody")
    check(r.returncode != 0 and "Permission denied" in error_line(r),
          f"--out inside a directory nobody may enter: {error_line(r)}")
    cfg = os.path.join(TMP, "secret.yaml")
    with open(cfg, "w") as fh:
        fh.write("model:\n  depth: 1\n")
    os.chmod(cfg, 0o600)
    r = ntk("kernel", "--config", cfg, "--out", os.path.join(TMP, "cfgrun"), user="nobody")
    check(r.returncode == 2 and "Permission denied" in error_line(r), f"unreadable --config: {error_line(r)}")
    stopped = os.path.join(locked, "stopped")
    os.makedirs(stopped)
    shutil.copy(cfg, os.path.join(stopped, "config.yaml"))
    r = ntk("train", "--resume", stopped, user="nobody")
    check(r.returncode != 0 and "Permission denied" in error_line(r),
          f"--resume of a run directory nobody may read: {error_line(r)}")


def test_random_kills():
    """SIGKILL at random moments (seeded; the seed is printed), then --resume, killed again at
    another random moment while resuming, then resumed to the end: byte-identical every time."""
    seed = int(os.environ.get("NTK_FAULT_SEED", random.SystemRandom().randrange(1 << 30)))
    print(f"random kill points: NTK_FAULT_SEED={seed}")
    rng = random.Random(seed)
    cases = [
        ("train", ["--depth", "2", "--width", "64", "--data", "circle", "--n", "32", "--steps", "1500",
                   "--snapshots", "every:25", "--checkpoint-every", "50", "--threads", "1"]),
        ("sweep", ["--depths", "1,2", "--widths", "16,32", "--lr-fracs", "0.5", "--steps", "400", "--data",
                   "circle", "--n", "16", "--snapshots", "every:50", "--threads", "1"]),
        ("ensemble", ["--depths", "2,4,6,8", "--widths", "16,32", "--members", "3000", "--threads", "1"]),
    ]
    for command, args in cases:
        ref = os.path.join(TMP, "kref_" + command)
        t0 = time.time()
        r = ntk(command, "--out", ref, *args)
        wall = time.time() - t0
        if r.returncode:
            check(False, f"random kills, {command}: reference failed {r.stderr.strip()[-200:]}")
            continue
        for trial in range(2):
            out = os.path.join(TMP, f"kill_{command}_{trial}")
            when = [rng.uniform(0.05, 0.9) * wall, rng.uniform(0.05, 0.5) * wall]
            killed = 0
            for i, delay in enumerate(when):
                cmd = [BIN, command, "--out", out, *args] if i == 0 else [BIN, command, "--resume", out]
                if i > 0 and not os.path.exists(os.path.join(out, "config.yaml")):
                    shutil.rmtree(out, ignore_errors=True)  # killed before it wrote anything: start again
                    cmd = [BIN, command, "--out", out, *args]
                p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    p.wait(timeout=delay)
                except subprocess.TimeoutExpired:
                    p.send_signal(signal.SIGKILL)
                    p.wait()
                    killed += 1
                if os.path.exists(os.path.join(out, "manifest.json")):
                    break
            if not os.path.exists(os.path.join(out, "manifest.json")):
                if not os.path.exists(os.path.join(out, "config.yaml")):
                    shutil.rmtree(out, ignore_errors=True)
                    r = ntk(command, "--out", out, *args)
                else:
                    r = ntk(command, "--resume", out)
            diff = same_tree(ref, out) if os.path.exists(os.path.join(out, "manifest.json")) else \
                r.stderr.strip()[-300:]
            check(diff is None, f"random kills, {command} #{trial}: killed {killed}x at "
                                f"{', '.join(f'{w:.2f}' for w in when)} s of {wall:.2f} s, resumed: "
                                f"{diff or 'byte-identical'}")


test_disk_full()
test_random_kills()
test_read_only()
test_unreadable()
finish(TMP)
