"""Reading a run directory of the CLI into numpy arrays and dicts (private)."""
import csv
import json
import os
import re

import numpy as np


class Run(dict):
    """A run directory read by load_run (a dict; keys also readable as attributes):
      path        the directory
      complete    whether manifest.json exists (it is written last)
      manifest    manifest.json as a dict (None if missing), run_info: run_info.json
      config      config.yaml as a dict (None when it cannot be read as YAML), config_text its text
      tables      file -> {column: array [rows]} for every .csv (metrics.csv, cells.csv, groups.csv,
                  ...): numeric columns as float64 (int64 when every value is an integer), others as str
      arrays      relative path without suffix -> {member: array} for every .npz, or an array for
                  every .npy (memory-mapped read-only: K.npy may be larger than memory), with the
                  shapes the manifest lists, e.g. arrays["kernel"]["K"] [N x N],
                  arrays["snapshots/snap_0000000050"]["K"] [n x n]
    and, for convenience, every table and archive at the top level under its name without suffix
    (run["metrics"]["loss"], run["kernel"]["K"], run["trajectory"]["f_lin"]).  Files in figures/
    are not read."""

    def __getattr__(self, name):  # AttributeError, not KeyError, for a missing key (hasattr, IPython)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self):
        return f"Run({self['path']!r}: {len(self['tables'])} tables, {len(self['arrays'])} arrays)"


def _column(values):
    try:
        f = np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        return np.array(values, dtype=str)
    if all(v.strip().lstrip("+-").isdigit() for v in values) and values:
        return f.astype(np.int64)
    return f


def read_csv(path):
    """A CSV with a header line as {column: array} (numbers as float64 / int64, other columns as str;
    '#' comment lines skipped)."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(line for line in fh if not line.startswith("#")))
    if not rows:
        return {}
    head, body = rows[0], rows[1:]
    return {name: _column([r[i] if i < len(r) else "nan" for r in body]) for i, name in enumerate(head)}


def _yaml(text):
    """config.yaml as a dict (Debian python3-yaml), numbers read as YAML 1.2 does: PyYAML's YAML 1.1
    rule would leave the CLI's 1e-08 (no dot) a string.  None when it is not YAML."""
    try:
        import yaml
    except ImportError:
        return None

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {k: [r for r in v if r[0] != "tag:yaml.org,2002:float"]
                                      for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
        r"^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)$|^[-+]?\.(?:inf|Inf|INF)$"
        r"|^\.(?:nan|NaN|NAN)$"), list("-+0123456789."))
    try:
        return yaml.load(text, Loader=Loader)
    except yaml.YAMLError:
        return None


def load_run(path):
    """Read any run directory of the CLI (kernel, limit, train, ensemble, sweep, profile, converge, ...)
    into numpy arrays and dicts: returns a Run (see its docstring).  Nothing is computed; a run still
    in progress (no manifest.json) reads as far as it got, with complete False."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"load_run: {path} is not a directory")
    run = Run(path=os.path.abspath(path), manifest=None, run_info=None, config=None, config_text=None, tables={},
              arrays={})
    for name in ("manifest", "run_info"):
        p = os.path.join(path, name + ".json")
        if os.path.exists(p):
            with open(p) as fh:
                run[name] = json.load(fh)
    run["complete"] = run["manifest"] is not None
    p = os.path.join(path, "config.yaml")
    if os.path.exists(p):
        with open(p) as fh:
            run["config_text"] = fh.read()
        run["config"] = _yaml(run["config_text"])
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d != "figures")
        for f in sorted(files):
            full = os.path.join(root, f)
            rel, ext = os.path.splitext(os.path.relpath(full, path))
            if ext == ".csv":
                run["tables"][rel] = read_csv(full)
            elif ext == ".npz":
                with np.load(full) as z:
                    run["arrays"][rel] = {k: z[k] for k in z.files}
            elif ext == ".npy" and not f.endswith(".partial"):
                run["arrays"][rel] = np.load(full, mmap_mode="r")
    for store in ("tables", "arrays"):
        for rel, v in run[store].items():
            if os.sep not in rel and rel not in run:
                run[rel] = v
    return run
