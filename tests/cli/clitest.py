"""clitest.py -- what the CLI tests share: the ok/FAIL counter, reading a CSV file's rows, and the
closing summary with the exit status."""
import csv, os, shutil, sys

passed = failed = 0


def check(ok, what):
    """Print one 'ok' or 'FAIL' line and count it."""
    global passed, failed
    print(("ok   " if ok else "FAIL ") + what)
    passed += bool(ok)
    failed += not ok


def csv_rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


# Files that hold timings or the moment of the run, not results.
RUN_RECORDS = ("manifest.json", "run_info.json")


def same_tree(a, b):
    """None when run directories a and b hold the same files with the same bytes, else what differs.
    manifest.json and run_info.json (wall times, dates) are skipped; in text files the run directory's
    own path (which config.yaml and cells.csv record) is replaced by RUN before comparing."""
    def files(root):
        out = set()
        for d, _, fs in os.walk(root):
            for f in fs:
                if f not in RUN_RECORDS:
                    out.add(os.path.relpath(os.path.join(d, f), root))
        return out
    fa, fb = files(a), files(b)
    if fa != fb:
        return f"file sets differ: only in first {sorted(fa - fb)[:5]}, only in second {sorted(fb - fa)[:5]}"
    for rel in sorted(fa):
        xa = open(os.path.join(a, rel), "rb").read()
        xb = open(os.path.join(b, rel), "rb").read()
        if rel.endswith((".csv", ".yaml", ".json", ".gp", ".dat", ".txt")):
            xa = xa.replace(os.path.abspath(a).encode(), b"RUN").replace(a.encode(), b"RUN")
            xb = xb.replace(os.path.abspath(b).encode(), b"RUN").replace(b.encode(), b"RUN")
        if xa != xb:
            return f"{rel} differs"
    return None


def finish(tmp):
    """Remove the test's temporary directory, print the tally and exit (1 when anything failed)."""
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
