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


def finish(tmp):
    """Remove the test's temporary directory, print the tally and exit (1 when anything failed)."""
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
