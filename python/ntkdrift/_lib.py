"""The shared library through cffi's ABI mode: finding and opening libntkdrift.so, the errors, and
the numpy <-> C buffer helpers every other module uses (private)."""
import ctypes.util
import os

import numpy as np
from cffi import FFI

SOMAJOR = 0  # libntkdrift.so.MAJOR this package was written for (the header's NTK_VERSION_MAJOR)
SONAME = f"libntkdrift.so.{SOMAJOR}"
_HERE = os.path.dirname(os.path.abspath(__file__))

ffi = FFI()
with open(os.path.join(_HERE, "_cdef.h")) as _fh:
    ffi.cdef(_fh.read())


def _candidates():
    """Where libntkdrift.so is looked for, in order (docs/python.md, "Finding the library")."""
    env = os.environ.get("NTKDRIFT_LIB")
    if env:  # an explicit choice is the only one: a wrong path fails rather than falling back
        return [("NTKDRIFT_LIB", env)]
    out = []
    try:  # written by cmake --install: the library directory relative to this package
        from . import _install
        libdir = _install.LIBDIR if os.path.isabs(_install.LIBDIR) else os.path.join(_HERE, _install.LIBDIR)
        out.append(("installed", os.path.join(libdir, SONAME)))
    except ImportError:
        pass
    out.append(("next to the package", os.path.join(_HERE, SONAME)))
    out.append(("build tree", os.path.join(_HERE, "..", "..", "build", SONAME)))
    found = ctypes.util.find_library("ntkdrift")
    out.append(("find_library", found or SONAME))
    return out


def _open():
    tried = []
    for where, path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(f"{where}: {path} (missing)")
            continue
        try:
            return ffi.dlopen(path), os.path.abspath(path) if os.sep in path else path
        except OSError as e:
            tried.append(f"{where}: {path} ({e})")
    raise ImportError("ntkdrift: cannot open the shared library libntkdrift.so; set NTKDRIFT_LIB to its path "
                      "(tried " + "; ".join(tried) + ")")


lib, LIB_PATH = _open()
VERSION = ffi.string(lib.ntk_version()).decode()
if int(VERSION.split(".")[0]) != SOMAJOR:
    raise ImportError(f"ntkdrift: {LIB_PATH} is version {VERSION}, this package needs major version {SOMAJOR}")


# ------------------------------------------------------------------------------------------ errors

class NtkError(Exception):
    """A library call returned a status other than NTK_OK.  str(e) and e.message are the library's
    one-line message (ntk_last_error()); e.status is the ntk_status code, e.status_name its name."""

    status = None

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    @property
    def status_name(self):
        return _STATUS_NAMES.get(self.status, "unknown")


class InvalidArgumentError(NtkError, ValueError):
    """NTK_EINVAL: an invalid argument or specification."""
    status = 1


class NtkMemoryError(NtkError, MemoryError):
    """NTK_ENOMEM: an allocation failed or would not fit."""
    status = 2


class NtkIOError(NtkError, OSError):
    """NTK_EIO: a file could not be opened, read or written."""
    status = 3

    def __str__(self):  # OSError's own __str__ would show the errno form
        return self.message


class FormatError(NtkError, ValueError):
    """NTK_EFORMAT: a file is malformed or has unexpected contents."""
    status = 4


class NumericError(NtkError, ArithmeticError):
    """NTK_ENUMERIC: NaN/Inf or a failed factorisation."""
    status = 5


_STATUS_NAMES = {0: "NTK_OK", 1: "NTK_EINVAL", 2: "NTK_ENOMEM", 3: "NTK_EIO", 4: "NTK_EFORMAT", 5: "NTK_ENUMERIC"}
_BY_STATUS = {c.status: c for c in (InvalidArgumentError, NtkMemoryError, NtkIOError, FormatError, NumericError)}


def error(status, message=None):
    """The exception of a status, with the library's last message (read in this thread, right after
    the call: ntk_last_error is thread-local)."""
    status = int(status)
    if message is None:
        message = ffi.string(lib.ntk_last_error()).decode(errors="replace")
    cls = _BY_STATUS.get(status, NtkError)
    if not message:
        message = ffi.string(lib.ntk_status_str(status)).decode()
    return cls(message, status)


def check(status):
    """Raise the status's NtkError unless it is NTK_OK (0)."""
    if status != 0:
        raise error(status)


# --------------------------------------------------------------------------------- numpy buffers

def float_dtype(dtype):
    """numpy float64 or float32 and the library's ntk_dtype for it."""
    dt = np.dtype(np.float64 if dtype is None else dtype)
    if dt == np.float64:
        return dt, lib.NTK_F64
    if dt == np.float32:
        return dt, lib.NTK_F32
    raise ValueError(f"dtype must be float64 or float32, got {dt}")


def as_f64(a, name, ndim=2, cols=None):
    """a as a C-contiguous float64 array (the same array, no copy, when it already is one; other dtypes
    and layouts are converted by np.ascontiguousarray) with its shape checked."""
    arr = np.ascontiguousarray(a, dtype=np.float64)
    if arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    if cols is not None and arr.shape[1] != cols:
        raise ValueError(f"{name}: expected {cols} columns, got shape {arr.shape}")
    return arr


def ptr(arr, ctype="double *"):
    """A C pointer into a numpy array's buffer (no copy); NULL for None.  The array must stay alive for
    as long as the pointer is used."""
    if arr is None:
        return ffi.NULL
    return ffi.cast(ctype, ffi.from_buffer(arr, require_writable=False))


def cstr(s):
    """A char[] for a Python string (keep it alive while the pointer is used); NULL for None."""
    return ffi.NULL if s is None else ffi.new("char[]", os.fsencode(s))


class _View:
    """An array interface over C memory that holds a reference to the memory's owner, so a numpy array
    made from it (np.asarray) keeps the owner (a Network, a result) alive."""

    def __init__(self, owner, address, shape, typestr="<f8", writable=True):
        self._owner = owner
        self.__array_interface__ = {"data": (address, not writable), "shape": tuple(shape), "typestr": typestr,
                                    "version": 3}


def view(owner, cptr, shape, writable=True):
    """A float64 numpy view of shape `shape` of the C array at cptr, keeping owner alive."""
    if any(s == 0 for s in shape):
        return np.zeros(shape)
    return np.asarray(_View(owner, int(ffi.cast("uintptr_t", cptr)), shape, writable=writable))


def copy_out(cptr, shape):
    """A new float64 numpy array holding a copy of the C array at cptr of shape `shape` (None for NULL)."""
    if cptr == ffi.NULL:
        return None
    n = int(np.prod(shape))
    return np.frombuffer(ffi.buffer(cptr, 8 * n), dtype=np.float64).reshape(shape).copy()
