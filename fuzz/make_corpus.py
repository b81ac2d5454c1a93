#!/usr/bin/python3
"""make_corpus.py -- (re)generate the seed corpus fuzz/corpus/<harness>/ (docs/fuzzing.md).

Usage:  /usr/bin/python3 fuzz/make_corpus.py [CORPUS_DIR]   (default: fuzz/corpus next to this file)

Deterministic (fixed zip timestamps, no randomness), so regenerating gives byte-identical files.
Only the files this script names are written or replaced; any other file in a corpus directory
(a regression input saved from a fuzzer crash, "crash-*" or "regress-*") is left alone.
Every file is < 64 KiB.  Per harness:

  npy        valid arrays of every dtype/order/version; truncated; wrong magic; huge, overflowing,
             negative ("-3") and too many dimensions; malformed header dicts; NaN/Inf payloads
  npz        valid archives (stored / deflated / zip64 like numpy.savez); truncated; wrong magic;
             members that are broken .npy files; sizes in the zip directories that lie or
             overflow; bad CRC; NaN/Inf payloads
  idx        valid raw and gzip; gzip truncated mid-stream / bad CRC / trailing junk; wrong magic
             and dtype bytes; bad ndim; dims whose product overflows; short data; float NaN/Inf
  csv        valid tables with header/comments/CRLF/BOM; ragged rows; NaN/inf text; empty
             fields; a very long line; NUL bytes; the empty file
  yaml       a valid config of every section; wrong types; huge numbers; deep nesting;
             anchors/aliases (and an alias bomb); binary junk; the empty file
  params     parameters of the harness's nets (with and without biases); wrong shapes; NaN/Inf;
             missing / extra members; broken archives
  checkpoint checkpoint.npz and snap_*.npz as `ntkdrift train` writes them; wrong counts;
             NaN/Inf and huge step values; format members of every kind; broken archives
  manifest   a manifest.json like the CLI's; deep nesting; huge numbers; bad escapes; NULs;
             binary junk; the empty file
"""
import gzip
import io
import json
import os
import struct
import sys
import warnings
import zipfile

warnings.filterwarnings("ignore", "Duplicate name", UserWarning)

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
MAX_FILE = 64 * 1024
DATE = (2001, 9, 9, 1, 46, 40)   # fixed zip timestamps: reproducible bytes

written = {}


def put(harness, name, data):
    """Writes corpus/<harness>/<name> (bytes or str)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    assert len(data) < MAX_FILE, (harness, name, len(data))
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    written[(harness, name)] = len(data)


# ------------------------------------------------------------------------------------ .npy

def npy_bytes(arr, version=None):
    """The .npy image numpy writes for arr (version None: numpy's choice)."""
    b = io.BytesIO()
    if version is None:
        np.save(b, arr, allow_pickle=False)
    else:
        np.lib.format.write_array(b, arr, version=version, allow_pickle=False)
    return b.getvalue()


def npy_raw(header, data=b"", version=1, hlen=None):
    """A hand-made .npy: magic, version, header text padded to 64 bytes, then data.
    hlen overrides the header-length field (to lie about it)."""
    pre = 10 if version == 1 else 12
    text = header.encode("latin-1") if isinstance(header, str) else header
    pad = (-(pre + len(text) + 1)) % 64
    text = text + b" " * pad + b"\n"
    n = len(text) if hlen is None else hlen
    if version == 1:
        head = b"\x93NUMPY\x01\x00" + struct.pack("<H", n & 0xFFFF)
    else:
        head = b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", n & 0xFFFFFFFF)
    return head + text + data


def hdr(descr="<f8", fortran=False, shape="(2, 3)"):
    return "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)


def npy_cases():
    """(name, bytes) for .npy images: used by the npy corpus and inside .npz members."""
    c = {}
    a23 = np.arange(6, dtype="<f8").reshape(2, 3) / 7.0
    c["valid_f8_2x3"] = npy_bytes(a23)
    c["valid_f4"] = npy_bytes(np.linspace(-1, 1, 5).astype("<f4"))
    c["valid_i8"] = npy_bytes(np.array([-(2 ** 63), -1, 0, 2 ** 63 - 1], dtype="<i8"))
    c["valid_i4_be"] = npy_bytes(np.array([[1, -2], [3, -4]], dtype=">i4"))
    c["valid_i2_be"] = npy_bytes(np.array([-32768, 32767], dtype=">i2"))
    c["valid_i1"] = npy_bytes(np.array([-128, 0, 127], dtype="i1"))
    c["valid_u1"] = npy_bytes(np.array([0, 255, 7], dtype="u1"))
    c["valid_u2"] = npy_bytes(np.array([65535, 1], dtype="<u2"))
    c["valid_u4_be"] = npy_bytes(np.array([4294967295, 2], dtype=">u4"))
    c["valid_u8"] = npy_bytes(np.array([2 ** 64 - 1, 0], dtype="<u8"))
    c["valid_bool"] = npy_bytes(np.array([True, False, True]))
    c["valid_f8_be"] = npy_bytes(np.array([1.5, -2.25], dtype=">f8"))
    c["valid_fortran_2x3x2"] = npy_bytes(np.asfortranarray(np.arange(12.0).reshape(2, 3, 2)))
    c["valid_0d"] = npy_bytes(np.array(3.25))
    c["valid_empty_0x3"] = npy_bytes(np.zeros((0, 3)))
    c["valid_8d"] = npy_bytes(np.ones((1, 2, 1, 2, 1, 1, 1, 2)))
    c["valid_v2"] = npy_bytes(a23, version=(2, 0))
    c["valid_v3"] = npy_bytes(a23, version=(3, 0))
    c["valid_long_suffix"] = npy_raw(hdr(shape="(2L, 3L)"), a23.tobytes())
    c["valid_dquote_keys"] = npy_raw('{"descr": "<f8", "fortran_order": False, "shape": (3,)}',
                                     np.ones(3).tobytes())
    c["nan_inf_f8"] = npy_bytes(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324]))
    c["nan_inf_f4_be"] = npy_bytes(np.array([np.nan, np.inf, -np.inf, 1e38], dtype=">f4"))
    c["nan_payload_signalling"] = npy_raw(hdr(shape="(2,)"), struct.pack("<QQ", 0x7FF0000000000001,
                                                                         0xFFF8DEADBEEF0000))
    good = c["valid_f8_2x3"]
    c["truncated_data"] = good[:-5]
    c["truncated_header"] = good[:40]
    c["truncated_preamble"] = good[:9]
    c["empty"] = b""
    c["wrong_magic"] = b"\x93NUMPZ" + good[6:]
    c["wrong_magic_text"] = b"PK\x03\x04 this is not an npy file"
    c["bad_version_4"] = good[:6] + b"\x04\x00" + good[8:]
    c["bad_version_1_1"] = good[:6] + b"\x01\x01" + good[8:]
    c["trailing_bytes"] = good + b"\x00" * 8
    c["hlen_too_big"] = npy_raw(hdr(), a23.tobytes(), hlen=0xFFFF)
    c["hlen_v2_huge"] = npy_raw(hdr(), a23.tobytes(), version=2, hlen=0xFFFFFFFF)
    c["hlen_zero"] = npy_raw(hdr(), a23.tobytes(), hlen=0)
    c["huge_shape_2e40_sq"] = npy_raw(hdr(shape="(1099511627776, 1099511627776)"), a23.tobytes())
    c["huge_shape_2e62"] = npy_raw(hdr(shape="(4611686018427387904,)"), a23.tobytes())
    c["huge_shape_bytes_overflow"] = npy_raw(hdr(shape="(2305843009213693952, 1)"), a23.tobytes())
    c["huge_shape_f4_times4"] = npy_raw(hdr(descr="<f4", shape="(4611686018427387905,)"), b"")
    c["huge_shape_u1_2e40"] = npy_raw(hdr(descr="|u1", shape="(1099511627776,)"), b"\x01" * 16)
    c["shape_dim_exceeds_size_t"] = npy_raw(hdr(shape="(18446744073709551616,)"), b"")
    c["shape_dim_20_digits"] = npy_raw(hdr(shape="(99999999999999999999, 0)"), b"")
    c["shape_zero_times_huge"] = npy_raw(hdr(shape="(0, 18446744073709551615)"), b"")
    c["shape_negative"] = npy_raw(hdr(shape="(-3,)"), b"")
    c["shape_negative_2d"] = npy_raw(hdr(shape="(2, -3)"), a23.tobytes())
    c["shape_9_dims"] = npy_raw(hdr(shape="(1, 1, 1, 1, 1, 1, 1, 1, 1)"), np.ones(1).tobytes())
    c["shape_no_trailing_comma"] = npy_raw(hdr(shape="(6)"), a23.tobytes())
    c["shape_list"] = npy_raw(hdr(shape="[2, 3]"), a23.tobytes())
    c["shape_float"] = npy_raw(hdr(shape="(2.5, 3)"), a23.tobytes())
    c["shape_double_comma"] = npy_raw(hdr(shape="(2,, 3)"), a23.tobytes())
    c["descr_structured"] = npy_raw("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,)}",
                                    b"\x00" * 8)
    c["descr_complex"] = npy_raw(hdr(descr="<c16", shape="(1,)"), b"\x00" * 16)
    c["descr_f2"] = npy_raw(hdr(descr="<f2", shape="(2,)"), b"\x00" * 4)
    c["descr_object"] = npy_raw(hdr(descr="|O", shape="(1,)"), b"\x00" * 8)
    c["descr_u16"] = npy_raw(hdr(descr="<u16", shape="(1,)"), b"\x00" * 16)
    c["descr_digits_9999"] = npy_raw(hdr(descr="<f9999", shape="(1,)"), b"\x00" * 8)
    c["descr_empty"] = npy_raw(hdr(descr="", shape="(1,)"), b"\x00" * 8)
    c["missing_shape"] = npy_raw("{'descr': '<f8', 'fortran_order': False}", b"")
    c["duplicate_key"] = npy_raw("{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
                                 b"\x00" * 8)
    c["unknown_key"] = npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", b"\x00" * 8)
    c["fortran_maybe"] = npy_raw(hdr(fortran="Maybe", shape="(1,)"), b"\x00" * 8)
    c["unterminated_string"] = npy_raw("{'descr': '<f8, 'fortran_order': False, 'shape': (1,)}", b"")
    c["escaped_string"] = npy_raw("{'descr': '<f\\8', 'fortran_order': False, 'shape': (1,)}", b"")
    c["non_ascii_key"] = npy_raw(b"{'d\xe9scr': '<f8', 'fortran_order': False, 'shape': (1,)}", b"")
    c["nul_in_header"] = npy_raw(b"{'descr': '<f8'\x00, 'fortran_order': False, 'shape': (1,)}", b"")
    c["text_after_dict"] = npy_raw(hdr(shape="(1,)") + " junk", b"\x00" * 8)
    c["no_brace"] = npy_raw("'descr': '<f8', 'fortran_order': False, 'shape': (1,)", b"\x00" * 8)
    c["fortran_4d_be_i2"] = npy_raw(hdr(descr=">i2", fortran=True, shape="(2, 1, 3, 2)"),
                                    np.arange(12, dtype=">i2").tobytes())
    return c


# ------------------------------------------------------------------------------------ .npz

def zip_bytes(members, method=zipfile.ZIP_STORED, zip64=False):
    """An archive of members [(name, bytes)] with fixed timestamps."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", allowZip64=True) as zf:
        for name, data in members:
            zi = zipfile.ZipInfo(name, date_time=DATE)
            zi.compress_type = method
            with zf.open(zi, "w", force_zip64=zip64) as f:
                f.write(data)
    return b.getvalue()


def npz(arrays, method=zipfile.ZIP_STORED, zip64=False):
    """Like numpy.savez (zip64 True: numpy's own local headers) of {name: array}."""
    return zip_bytes([(k + ".npy", npy_bytes(np.asarray(v))) for k, v in arrays.items()], method, zip64)


def patch_sizes(z, comp=None, size=None, local=True, central=True):
    """Rewrites the sizes of every entry in the local headers and/or the central directory."""
    z = bytearray(z)
    for sig, off_c, off_u, on in ((b"PK\x03\x04", 18, 22, local), (b"PK\x01\x02", 20, 24, central)):
        if not on:
            continue
        i = z.find(sig)
        while i >= 0:
            if comp is not None:
                z[i + off_c:i + off_c + 4] = struct.pack("<I", comp)
            if size is not None:
                z[i + off_u:i + off_u + 4] = struct.pack("<I", size)
            i = z.find(sig, i + 4)
    return bytes(z)


def patch_zip64_sizes(z, value):
    """Sets every 8-byte size in zip64 extra fields (id 0x0001) to value: with zipfile's small
    members only the local headers carry one, so this makes them disagree with the directory."""
    z = bytearray(z)
    i = z.find(b"\x01\x00")
    while i >= 0:
        if i + 4 <= len(z):
            n = struct.unpack("<H", z[i + 2:i + 4])[0]
            if n in (16, 24, 28) and i + 4 + n <= len(z):
                z[i + 4:i + 12] = struct.pack("<Q", value)
                z[i + 12:i + 20] = struct.pack("<Q", value)
        i = z.find(b"\x01\x00", i + 2)
    return bytes(z)


def set_method(z, method):
    """Sets the compression method of every entry (local headers and central directory)."""
    z = bytearray(z)
    for sig, off in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        i = z.find(sig)
        while i >= 0:
            z[i + off:i + off + 2] = struct.pack("<H", method)
            i = z.find(sig, i + 4)
    return bytes(z)


def flip_crc(z):
    z = bytearray(z)
    for sig, off in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):
        i = z.find(sig)
        while i >= 0:
            z[i + off] ^= 0xFF
            i = z.find(sig, i + 4)
    return bytes(z)


def npz_family(put_one, valid):
    """Structural variants of one valid archive's bytes (shared by npz, params, checkpoint)."""
    put_one("trunc_half", valid[:len(valid) // 2])
    put_one("trunc_no_eocd", valid[:-22])
    put_one("trunc_10", valid[:10])
    put_one("empty", b"")
    put_one("wrong_magic", b"PX" + valid[2:])
    put_one("eocd_only", b"PK\x05\x06" + b"\x00" * 18)
    put_one("bad_crc", flip_crc(valid))
    put_one("sizes_huge_central", patch_sizes(valid, comp=0xFFFFFFFE, size=0xFFFFFFFE, local=False))
    put_one("sizes_huge_both", patch_sizes(valid, comp=0xFFFFFFFE, size=0xFFFFFFFE))
    put_one("size_gt_comp_stored", patch_sizes(valid, size=0x7FFFFFFF))
    put_one("sizes_zero", patch_sizes(valid, comp=0, size=0))
    put_one("trailing_junk", valid + b"junk" * 16)


def npz_corpus():
    c = npy_cases()
    X = np.arange(12.0).reshape(4, 3)
    K = np.eye(3)
    theta = np.linspace(-1, 1, 7)
    valid = npz({"X": X, "K": K, "theta": theta})
    put("npz", "valid_stored.npz", valid)
    put("npz", "valid_deflated.npz", npz({"X": X, "K": K, "theta": theta}, zipfile.ZIP_DEFLATED))
    put("npz", "valid_numpy_zip64.npz", npz({"X": X, "K": K, "theta": theta}, zip64=True))
    put("npz", "valid_plain_names.npz", zip_bytes([("X", npy_bytes(X)), ("K.npy", npy_bytes(K))]))
    put("npz", "valid_int_members.npz", npz({"X": np.arange(6, dtype=">i4").reshape(2, 3),
                                             "K": np.array([True, False]), "theta": np.uint8([1, 2])}))
    put("npz", "nan_inf.npz", npz({"X": np.array([[np.nan, np.inf], [-np.inf, 1.0]]),
                                   "K": np.array([np.nan], dtype="f4"), "theta": np.array(np.inf)}))
    put("npz", "empty_members.npz", npz({"X": np.zeros((0, 3)), "K": np.zeros((3, 0)), "theta": np.zeros(0)}))
    put("npz", "no_such_member.npz", npz({"Y": X}))
    put("npz", "duplicate_names.npz", zip_bytes([("X.npy", npy_bytes(X)), ("X.npy", npy_bytes(K))]))
    put("npz", "member_is_text.npz", zip_bytes([("X.npy", b"not an npy"), ("K.npy", b"")]))
    for name in ("truncated_data", "wrong_magic", "huge_shape_2e40_sq", "huge_shape_2e62",
                 "huge_shape_bytes_overflow", "shape_negative", "shape_dim_exceeds_size_t",
                 "hlen_v2_huge", "trailing_bytes", "descr_structured", "shape_9_dims"):
        put("npz", "member_%s.npz" % name, zip_bytes([("X.npy", c[name]), ("K.npy", npy_bytes(K))]))
    put("npz", "member_huge_shape_deflated.npz",
        zip_bytes([("X.npy", c["huge_shape_u1_2e40"])], zipfile.ZIP_DEFLATED))
    put("npz", "deflate_bomb_small.npz",
        zip_bytes([("X.npy", npy_raw(hdr(descr="|u1", shape="(60000,)"), b"\x00" * 60000))],
                  zipfile.ZIP_DEFLATED))
    put("npz", "zip64_local_size_2e40.npz", patch_zip64_sizes(npz({"X": X}, zip64=True), 1 << 40))
    put("npz", "zip64_local_size_2e62.npz", patch_zip64_sizes(npz({"X": X}, zip64=True), 1 << 62))
    put("npz", "zip64_local_size_max.npz", patch_zip64_sizes(npz({"X": X}, zip64=True), (1 << 64) - 1))
    npz_family(lambda n, b: put("npz", n + ".npz", b), valid)
    deflated = npz({"X": X, "K": K, "theta": theta}, zipfile.ZIP_DEFLATED)
    put("npz", "deflated_trunc_mid.npz", deflated[:len(deflated) * 2 // 3])
    put("npz", "deflated_size_lie.npz", patch_sizes(deflated, size=0x00FFFFFF))
    put("npz", "deflated_bad_crc.npz", flip_crc(deflated))
    # Methods without an expansion bound: the declared size must not be allocated up front.
    for name, method in (("bzip2", 12), ("lzma", 14), ("zstd", 93), ("xz", 95), ("unknown", 77)):
        put("npz", "method_%s.npz" % name, set_method(valid, method))
        put("npz", "method_%s_size_lie.npz" % name, patch_sizes(set_method(valid, method), size=0xFFFFFFFE))
    put("npz", "method_bzip2_zip64_local_2e40.npz",
        set_method(patch_zip64_sizes(npz({"X": X}, zip64=True), 1 << 40), 12))


def npy_corpus():
    for name, data in npy_cases().items():
        put("npy", name + ".npy", data)


# ------------------------------------------------------------------------------------- IDX

def idx(data, dims, dtype=0x08, magic=b"\x00\x00"):
    return magic + bytes([dtype, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data


def gz(data):
    return gzip.compress(data, mtime=0)


def idx_corpus():
    img = bytes(range(2 * 4 * 5))
    valid = idx(img, [2, 4, 5])
    put("idx", "valid_3d.idx", valid)
    put("idx", "valid_labels.idx", idx(bytes([0, 1, 2, 9, 5]), [5]))
    put("idx", "valid_4d.idx", idx(bytes(24), [1, 2, 3, 4]))
    put("idx", "valid_zero_dim.idx", idx(b"", [0, 28, 28]))
    put("idx", "valid_3d.idx.gz", gz(valid))
    put("idx", "valid_labels_concat_members.gz", gz(valid[:10]) + gz(valid[10:]))
    put("idx", "gz_trunc_mid.gz", gz(idx(bytes(range(256)) * 20, [20, 256]))[:300])
    put("idx", "gz_trunc_header.gz", gz(valid)[:12])
    put("idx", "gz_trunc_before_crc.gz", gz(valid)[:-6])
    g = bytearray(gz(valid))
    g[-8] ^= 0xFF
    put("idx", "gz_bad_crc.gz", bytes(g))
    g = bytearray(gz(valid))
    g[-3] ^= 0xFF
    put("idx", "gz_bad_isize.gz", bytes(g))
    g = bytearray(gz(valid))
    g[15] ^= 0x55
    put("idx", "gz_corrupt_deflate.gz", bytes(g))
    put("idx", "gz_trailing_junk.gz", gz(valid) + b"\x00junk after the gzip stream")
    put("idx", "gz_magic_only.gz", b"\x1f\x8b")
    put("idx", "gz_empty_payload.gz", gz(b""))
    put("idx", "gz_bomb_short.gz", gz(idx(bytes(60000), [100000, 1000])))
    put("idx", "empty", b"")
    put("idx", "trunc_magic", valid[:3])
    put("idx", "trunc_dims", valid[:9])
    put("idx", "trunc_data", valid[:-7])
    put("idx", "trailing_data.idx", valid + b"\x01\x02")
    put("idx", "wrong_magic.idx", idx(img, [2, 4, 5], magic=b"\x01\x00"))
    put("idx", "wrong_magic_text", b"P5\n28 28\n255\n" + bytes(16))
    for t in (0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF):
        put("idx", "dtype_%02x.idx" % t, idx(img, [2, 4, 5], dtype=t))
    put("idx", "float32_nan_inf.idx", idx(struct.pack(">4f", float("nan"), float("inf"),
                                                       -float("inf"), 1.0), [4], dtype=0x0D))
    put("idx", "float64_nan_inf.idx", idx(struct.pack(">3d", float("nan"), float("inf"), 0.5), [3], dtype=0x0E))
    put("idx", "ndim_0.idx", idx(b"", []))
    put("idx", "ndim_5.idx", idx(bytes(32), [1, 1, 1, 1, 32]))
    put("idx", "ndim_255", b"\x00\x00\x08\xff" + b"\x00\x00\x00\x01" * 8)
    put("idx", "dims_overflow_u64.idx", idx(b"\x00" * 16, [0xFFFFFFFF] * 4))
    put("idx", "dims_overflow_2e64.idx", idx(b"\x00" * 16, [0x10000, 0x10000, 0x10000, 0x10000]))
    put("idx", "dims_2e32_plus1.idx", idx(b"\x00" * 16, [0x10000, 0x10000, 2]))
    put("idx", "dims_exactly_2e32_short.idx", idx(b"\x00" * 16, [0x10000, 0x10000]))
    put("idx", "dims_huge_short_data.idx", idx(b"\x00" * 64, [0x7FFFFFFF, 2]))
    put("idx", "dims_huge_short_data.gz", gz(idx(b"\x00" * 64, [0x7FFFFFFF, 2])))
    put("idx", "dims_over_limit_4d.idx", idx(b"", [0x100, 0x100, 0x100, 0x101]))
    put("idx", "dims_zero_times_huge.idx", idx(b"", [0, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF]))


# ------------------------------------------------------------------------------------- CSV

def csv_corpus():
    put("csv", "valid.csv", "1,2,3\n4,5,6\n-7.5,8e-3,9E+2\n")
    put("csv", "valid_header_comments.csv",
        "# a comment\nx0,x1,y\n\n  # indented comment\n0.5, 1.5 ,\t2.5\n1,2,3\n")
    put("csv", "valid_crlf_bom.csv", "\ufeffa,b\r\n1,2\r\n3,4\r\n")
    put("csv", "valid_one_value_no_newline.csv", "42")
    put("csv", "valid_hex_and_tiny.csv", "0x1p-1074,0x1.8p1,1e-320\n-0,+1,.5\n")
    put("csv", "ragged_short.csv", "1,2,3\n4,5\n")
    put("csv", "ragged_long.csv", "1,2\n3,4,5\n")
    put("csv", "ragged_vs_header.csv", "a,b,c\n1,2\n")
    put("csv", "nan_text.csv", "1,nan\n2,3\n")
    put("csv", "inf_text.csv", "inf,-Infinity\n1,2\n")
    put("csv", "nan_payload_text.csv", "NaN(0x123),1\n")
    put("csv", "overflow_1e999.csv", "1e999,1\n")
    put("csv", "underflow.csv", "1e-999,1\n")
    put("csv", "empty_field.csv", "1,,3\n")
    put("csv", "trailing_comma.csv", "1,2,\n3,4,\n")
    put("csv", "only_commas.csv", ",,,,\n")
    put("csv", "text_in_data.csv", "x,y\n1,abc\n")
    put("csv", "two_headers.csv", "a,b\nc,d\n1,2\n")
    put("csv", "only_header.csv", "a,b,c\n")
    put("csv", "only_comments.csv", "# nothing\n#\n\n")
    put("csv", "empty.csv", "")
    put("csv", "blank_lines.csv", "\n\n  \n\t\n")
    put("csv", "nul_byte.csv", b"1,2\n3,\x004\n")
    put("csv", "binary_junk.csv", bytes(range(256)) * 4)
    put("csv", "long_line.csv", ",".join(["1.25"] * 8000) + "\n" + ",".join(["2"] * 8000) + "\n")
    put("csv", "long_field.csv", "1" * 60000 + "\n")
    put("csv", "long_text_field.csv", "x" * 60000 + "\n1\n")
    put("csv", "many_rows.csv", "".join("%d,%d\n" % (i, -i) for i in range(5000)))
    put("csv", "cr_only.csv", "1,2\r3,4\r")
    put("csv", "utf8_text.csv", "\u00e9t\u00e9,\u4e2d\n1,2\n")
    put("csv", "bom_not_first_line.csv", "1,2\n\ufeff3,4\n")


# ------------------------------------------------------------------------------------ YAML

VALID_YAML = """\
model:
  depth: 2
  width: 64
  widths: [64, 32]
  n0: 3
  outputs: 2
  act: erf
  param: standard
  sw2: 2.0
  sw2_out: 1.0
  sb: 0.1
  bias: normal
  bias_out: zero
  first_layer: none
data:
  data: circle
  n: 32
  classes: [0, 1]
  pixels: standardize
study:
  widths: [16, 32]
  depths: [1, 2]
  seeds: [0, 1, 2]
  lr_fracs: [0.25, 0.5]
  betas: [0.1]
run:
  seed: 42
  threads: 1
  out: /tmp/ntkfuzz-never-written
  name: fuzz
  results: results
  max_memory_gb: 1.5
kernel:
  per_layer: true
  save_params: no
  dtype: f32
  load_params: params.npz
train:
  target: fourier
  loss: sum
  opt: adam
  snapshots: every:10
  n_eval: 8
  steps: 100
  batch: 4
  checkpoint_every: 10
  lr_frac: 0.5
  momentum: 0.9
  ridge: 1.0e-8
  noise: 0.0
  blowup: 1.0e6
  top_k: 5
  fourier_k: 3
  flow: off
ensemble:
  members: 100
  s: 1.0
  angle: 45
  lr: 0.001
  y: 0.5
  no_updates: false
  no_literal: true
  sampler: lazy
sweep:
  lazy_drift: 0.1
  lazy_lin_err: 0.1
  unstable_loss_ratio: 1.0
  catapult_spike: 1.0
  tau: 0
"""


def yaml_corpus():
    put("yaml", "valid_full.yaml", VALID_YAML)
    put("yaml", "valid_minimal.yaml", "model:\n  depth: 1\n")
    put("yaml", "valid_flow_style.yaml", "{model: {depth: 3, width: 8}, train: {steps: 5, lr: 0.1}}\n")
    put("yaml", "valid_comments_docstart.yaml", "%YAML 1.1\n---\n# comment\nrun: {seed: 7}  # trailing\n...\n")
    put("yaml", "empty.yaml", "")
    put("yaml", "whitespace_only.yaml", " \n\t\r\n  ")
    put("yaml", "only_comment.yaml", "# nothing here\n")
    put("yaml", "null_document.yaml", "~\n")
    put("yaml", "scalar_document.yaml", "hello\n")
    put("yaml", "list_document.yaml", "- model\n- data\n")
    put("yaml", "wrong_type_depth_str.yaml", "model:\n  depth: abc\n")
    put("yaml", "wrong_type_depth_float.yaml", "model:\n  depth: 2.5\n")
    put("yaml", "wrong_type_widths_map.yaml", "model:\n  widths: {a: 1}\n")
    put("yaml", "wrong_type_widths_scalar.yaml", "model:\n  widths: 5\n")
    put("yaml", "wrong_type_section_list.yaml", "model: [1, 2]\n")
    put("yaml", "wrong_type_section_scalar.yaml", "train: 3\n")
    put("yaml", "wrong_type_string_for_list.yaml", "study:\n  seeds: [a, b]\n")
    put("yaml", "wrong_type_act_list.yaml", "model:\n  act: [relu]\n")
    put("yaml", "wrong_enum.yaml", "model:\n  act: softplus\n  param: mup\n")
    put("yaml", "wrong_bool.yaml", "kernel:\n  per_layer: maybe\ntrain:\n  flow: 2\n")
    put("yaml", "unknown_section.yaml", "modle:\n  depth: 1\n")
    put("yaml", "unknown_key.yaml", "model:\n  dept: 1\n")
    put("yaml", "duplicate_key.yaml", "model:\n  depth: 1\n  depth: 2\n")
    put("yaml", "duplicate_section.yaml", "model: {depth: 1}\nmodel: {width: 2}\n")
    put("yaml", "huge_int.yaml", "model:\n  depth: 99999999999999999999999999\n")
    put("yaml", "int_overflow_32.yaml", "model:\n  width: 2147483648\n  n0: -2147483649\n")
    put("yaml", "huge_int64.yaml", "data:\n  n: 9223372036854775808\ntrain:\n  steps: -9223372036854775809\n")
    put("yaml", "seed_negative.yaml", "run:\n  seed: -1\n")
    # numbers are text converted by cli/config_num.c (exact integers from decimal/exponent forms)
    put("yaml", "numbers_exponent.yaml", "model:\n  width: 1e3\n  depth: 2.0\nrun:\n  seed: 1.8446744073709551615e19\n")
    put("yaml", "numbers_junk_quoted.yaml", "model:\n  width: \"12abc\"\n  sw2: \" 2\"\n")
    put("yaml", "numbers_list_entries.yaml", "study:\n  widths: [8, 3.7]\n  lr_fracs: [0.5, 1e-400]\n")
    put("yaml", "numbers_huge_exponent.yaml", "run:\n  seed: 0e99999999999999999999\ntrain:\n  steps: 1e-99999999999\n")
    put("yaml", "numbers_leading_zero_hex.yaml", "model:\n  width: 012\n  n0: 0x10\n  sb: 0x1p3\n")
    put("yaml", "seed_u64_max.yaml", "run:\n  seed: 18446744073709551615\n")
    put("yaml", "seed_u64_over.yaml", "run:\n  seed: 18446744073709551616\n")
    put("yaml", "huge_float.yaml", "model:\n  sw2: 1e400\n  sb: -1e400\ntrain:\n  lr: .nan\n  ridge: .inf\n")
    put("yaml", "hex_octal_ints.yaml", "model:\n  depth: 0x10\n  width: 0o17\n  n0: 010\n")
    put("yaml", "negative_values.yaml", "data:\n  n: -5\nstudy:\n  widths: [-1]\n  betas: [0]\n")
    put("yaml", "classes_out_of_range.yaml", "data:\n  classes: [0, 11]\n")
    put("yaml", "classes_too_many.yaml", "data:\n  classes: [0,1,2,3,4,5,6,7,8,9,0,1]\n")
    put("yaml", "classes_empty.yaml", "data:\n  classes: []\n")
    put("yaml", "empty_lists.yaml", "model:\n  widths: []\nstudy:\n  widths: []\n")
    put("yaml", "train_bounds.yaml", "train:\n  top_k: 0\n  batch: -1\n")
    put("yaml", "ensemble_bounds.yaml", "ensemble:\n  members: 1\n  angle: 270\n  sampler: half\n")
    put("yaml", "long_string_data.yaml", "data:\n  data: '%s'\n" % ("d" * 2000))
    put("yaml", "long_string_name.yaml", "run:\n  name: %s\n" % ("n" * 200))
    put("yaml", "empty_string_name.yaml", "run:\n  name: ''\n")
    put("yaml", "long_sequence.yaml", "model:\n  widths: [%s]\n" % ", ".join(["7"] * 5000))
    put("yaml", "deep_nesting_seq.yaml", "model:\n  widths: " + "[" * 5000 + "]" * 5000 + "\n")
    put("yaml", "deep_nesting_map.yaml", "model: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n")
    put("yaml", "deep_nesting_block.yaml",
        "".join("  " * i + "k%d:\n" % i for i in range(200)) + "  " * 200 + "v\n")
    put("yaml", "anchor_alias.yaml", "model: &m\n  depth: 2\ndata: *m\n")
    put("yaml", "anchor_alias_scalar.yaml", "model:\n  depth: &d 2\n  width: *d\n")
    put("yaml", "alias_undefined.yaml", "model:\n  depth: *nowhere\n")
    put("yaml", "merge_key.yaml", "base: &b {depth: 2}\nmodel:\n  <<: *b\n")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for i, (p, q) in enumerate(zip("abcdefgh", "bcdefghi")):
        bomb += "%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n" % ((q, q) + (p,) * 9)
    put("yaml", "alias_bomb.yaml", bomb)
    put("yaml", "tags.yaml", "model:\n  depth: !!str 3\n  width: !!float 4\n  act: !custom relu\n")
    put("yaml", "multi_document.yaml", "model: {depth: 1}\n---\nmodel: {depth: 2}\n")
    put("yaml", "tabs_indent.yaml", "model:\n\tdepth: 1\n")
    put("yaml", "bad_indent.yaml", "model:\n  depth: 1\n width: 2\n")
    put("yaml", "unterminated_quote.yaml", "model:\n  act: 'relu\n")
    put("yaml", "unterminated_flow.yaml", "model: {depth: 1\n")
    put("yaml", "bad_escape.yaml", 'model:\n  act: "\\xZZ\\uD800"\n')
    put("yaml", "utf16_bom.yaml", "\ufeffmodel:\n  depth: 1\n".encode("utf-16"))
    put("yaml", "utf8_bom.yaml", "\ufeffmodel:\n  depth: 1\n")
    put("yaml", "invalid_utf8.yaml", b"model:\n  act: \xff\xfe\xc3\n")
    put("yaml", "nul_byte.yaml", b"model:\n  depth: 1\x00\n")
    put("yaml", "binary_junk.yaml", bytes((i * 131 + 7) % 256 for i in range(2048)))
    put("yaml", "binary_zeros.yaml", bytes(512))
    put("yaml", "complex_key.yaml", "? [model]\n: {depth: 1}\n")
    put("yaml", "null_values.yaml", "model:\n  depth: ~\n  act: null\ntrain:\n")
    put("yaml", "block_scalars.yaml", "data:\n  data: |\n    multi\n    line\nrun:\n  name: >-\n    folded\n")


# ---------------------------------------------------------------------------- params files

def params_arrays(bias=True, n0=3, widths=(4, 4), k=2):
    """W1..W3 (and b1..b3) for the fuzz_params networks, like ntk_net_save_params."""
    n = [n0] + list(widths) + [k]
    out = {}
    for l in range(1, len(n)):
        out["W%d" % l] = (np.arange(n[l] * n[l - 1], dtype="f8").reshape(n[l], n[l - 1]) - 3) / 10
        if bias:
            out["b%d" % l] = np.full(n[l], 0.25 * l)
    return out


def params_corpus():
    pb = params_arrays(True)
    pn = params_arrays(False)
    valid = npz(pb)
    put("params", "valid_bias.npz", valid)
    put("params", "valid_nobias.npz", npz(pn))
    put("params", "valid_bias_deflated.npz", npz(pb, zipfile.ZIP_DEFLATED))
    put("params", "valid_bias_numpy_zip64.npz", npz(pb, zip64=True))
    put("params", "valid_bias_f4_be.npz", npz({k: v.astype(">f4") for k, v in pb.items()}))
    put("params", "valid_bias_fortran.npz", npz({k: np.asfortranarray(v) for k, v in pb.items()}))
    for name, mutate in (
            ("nan_W2", lambda d: d["W2"].__setitem__((1, 2), np.nan)),
            ("inf_b3", lambda d: d["b3"].__setitem__(0, np.inf)),
            ("neg_inf_W1", lambda d: d["W1"].__setitem__((0, 0), -np.inf))):
        d = {k: v.copy() for k, v in pb.items()}
        mutate(d)
        put("params", name + ".npz", npz(d))
    d = dict(pb)
    d["W2"] = pb["W2"].T[:3]
    put("params", "wrong_shape_W2.npz", npz(d))
    d = dict(pb)
    d["W1"] = pb["W1"].ravel()
    put("params", "wrong_ndim_W1.npz", npz(d))
    d = dict(pb)
    d["b2"] = pb["b2"].reshape(1, 4)
    put("params", "wrong_ndim_b2.npz", npz(d))
    d = dict(pb)
    d["W3"] = np.zeros((2, 4, 1, 1, 1, 1, 1, 1))
    put("params", "eight_dims_W3.npz", npz(d))
    d = dict(pb)
    d["W1"] = np.array(1.0)
    put("params", "scalar_W1.npz", npz(d))
    d = dict(pb)
    del d["b3"]
    put("params", "missing_b3.npz", npz(d))
    d = dict(pn)
    d["b2"] = np.zeros(4)
    put("params", "nobias_extra_b2.npz", npz(d))
    c = npy_cases()
    for name in ("huge_shape_2e40_sq", "shape_negative", "truncated_data", "nan_inf_f8", "huge_shape_2e62"):
        members = [(k + ".npy", npy_bytes(v)) for k, v in pb.items() if k != "W2"]
        members.append(("W2.npy", c[name]))
        put("params", "W2_%s.npz" % name, zip_bytes(members))
    npz_family(lambda n, b: put("params", n + ".npz", b), valid)


# ----------------------------------------------------------------------------- checkpoints

P, NPTS, D = 41, 5, 3   # the sizes fuzz_checkpoint.c expects


def ckpt_arrays(step=10.0):
    return {"theta": np.linspace(-1, 1, P), "opt_state": np.linspace(0, 1, 2 * P),
            "step": np.array([step]), "losses": np.array([1.5, 2.5, 3.0])}


def snap_arrays(step=10.0):
    K = np.eye(NPTS) + 0.1
    return {"meta": np.array([step, 0.5, np.nan]), "K": K, "f_train": np.arange(NPTS, dtype="f8"),
            "eigs": np.arange(NPTS, dtype="f8")[::-1], "Kdot": K / 10, "move": np.array([0.1, 0.2, 0.3]),
            "K_layers": np.stack([K / 3] * D)}


def checkpoint_corpus():
    ck = ckpt_arrays()
    sn = snap_arrays()
    valid = npz(ck)
    put("checkpoint", "checkpoint_valid.npz", valid)
    put("checkpoint", "snapshot_valid.npz", npz(sn))
    put("checkpoint", "snapshot_step0_valid.npz", npz(snap_arrays(0.0)))
    both = dict(ck)
    both.update(sn)
    put("checkpoint", "checkpoint_and_snapshot.npz", npz(both))
    put("checkpoint", "checkpoint_numpy_zip64.npz", npz(ck, zip64=True))
    put("checkpoint", "checkpoint_deflated.npz", npz(ck, zipfile.ZIP_DEFLATED))
    for name, step in (("nan", np.nan), ("inf", np.inf), ("neg_inf", -np.inf), ("1e300", 1e300),
                       ("neg_1e19", -1e19), ("2e63", 2.0 ** 63), ("negative", -5.0), ("fraction", 2.5)):
        put("checkpoint", "step_%s.npz" % name, npz(ckpt_arrays(step)))
        d = dict(sn)
        d["meta"] = np.array([step, np.inf, -np.inf])
        put("checkpoint", "snapshot_meta_%s.npz" % name, npz(d))
    d = dict(ck)
    d["losses"] = np.array([np.nan, np.inf, 1e300])
    put("checkpoint", "losses_nonfinite.npz", npz(d))
    d = dict(ck)
    d["theta"] = np.zeros(P - 1)
    put("checkpoint", "theta_wrong_count.npz", npz(d))
    d = dict(ck)
    d["opt_state"] = np.zeros(0)
    put("checkpoint", "opt_state_empty.npz", npz(d))
    d = dict(ck)
    d["step"] = np.array([[1.0, 2.0]])
    put("checkpoint", "step_two_values.npz", npz(d))
    d = dict(ck)
    d["step"] = np.array(7.0)
    put("checkpoint", "step_0d.npz", npz(d))
    d = dict(ck)
    d["theta"] = np.linspace(-1, 1, P).astype(">f4")
    put("checkpoint", "theta_f4_be.npz", npz(d))
    d = dict(ck)
    d["step"] = np.array([2 ** 63 - 1], dtype="<i8")
    put("checkpoint", "step_int64_max.npz", npz(d))
    d = dict(ck)
    d["step"] = np.array([2 ** 64 - 1], dtype="<u8")
    put("checkpoint", "step_uint64_max.npz", npz(d))
    d = dict(sn)
    d["K"] = np.eye(NPTS + 1)
    put("checkpoint", "snapshot_K_wrong_count.npz", npz(d))
    d = dict(sn)
    d["K_layers"] = np.zeros((D, NPTS, NPTS - 1))
    put("checkpoint", "snapshot_K_layers_wrong.npz", npz(d))
    d = dict(sn)
    del d["move"]
    put("checkpoint", "snapshot_missing_move.npz", npz(d))
    # the versioned format (ntk_checkpoint_load): [1] as ntk_checkpoint_save writes it, a version this
    # build does not read, a non-finite one, two values, an empty one, text, an int64 1
    for name, fmt in (("format_1", np.array([1.0])), ("format_2", np.array([2.0])),
                      ("format_nan", np.array([np.nan])), ("format_two_values", np.array([1.0, 1.0])),
                      ("format_empty", np.zeros(0)), ("format_text", np.array(["1"])),
                      ("format_int64", np.array([1], dtype="<i8"))):
        d = {"format": fmt}
        d.update(ck)
        put("checkpoint", "%s.npz" % name, npz(d))
    c = npy_cases()
    for name in ("huge_shape_2e40_sq", "shape_negative", "huge_shape_bytes_overflow", "nan_inf_f8"):
        members = [(k + ".npy", npy_bytes(v)) for k, v in ck.items() if k != "theta"]
        members.append(("theta.npy", c[name]))
        put("checkpoint", "theta_%s.npz" % name, zip_bytes(members))
    npz_family(lambda n, b: put("checkpoint", n + ".npz", b), valid)


# -------------------------------------------------------------------------------- manifest

def manifest_corpus():
    m = {
        "tool": "ntkdrift", "version": "0.1.0", "command": "train",
        "argv": ["ntkdrift", "train", "--width", "64"],
        "spec": {"depth": 2, "weight_layers": 3, "widths": [64, 64], "n0": 2, "outputs": 1, "act": "relu",
                 "param": "ntk", "sw2": 2, "sw2_out": 1, "sb": 1, "bias": "zero", "bias_out": "zero",
                 "first_layer": "fan_in", "beta": 0.03125},
        "conventions": {"network": "z^(l) = c_w W h + c_b b", "kernel": "K = J J^T",
                        "loss": "L = c * 1/2 sum_i ||f(x_i) - y_i||^2"},
        "artifacts": [{"file": "snapshots/snap_0000000000.npz", "member": "K", "shape": [32, 32],
                       "dtype": "float64", "meaning": "empirical NTK"}],
        "train": {"outcome": "converged", "eta": 0.5, "steps": 100, "initial_loss": 0.7, "max_loss": 0.7},
        "host": "h", "pid": 1234, "threads": 1, "ranks": 1,
    }
    put("manifest", "valid_train.json", json.dumps(m, indent=2))
    put("manifest", "valid_compact.json", json.dumps(m, separators=(",", ":")))
    m2 = dict(m, command="sweep", train={"outcome": "diverged", "eta": "fast", "steps": None})
    put("manifest", "valid_sweep_wrong_types.json", json.dumps(m2))
    put("manifest", "empty.json", "")
    put("manifest", "whitespace.json", " \n\t ")
    put("manifest", "scalar.json", "3")
    put("manifest", "null.json", "null")
    put("manifest", "array_top.json", "[1, 2, {\"command\": \"x\"}]")
    put("manifest", "command_not_string.json", '{"command": 5, "train": [1], "spec": null}')
    put("manifest", "command_long.json", '{"command": "%s"}' % ("c" * 5000))
    put("manifest", "deep_array.json", "[" * 5000 + "]" * 5000)
    put("manifest", "deep_object.json", '{"a":' * 3000 + "1" + "}" * 3000)
    put("manifest", "deep_1000.json", "[" * 999 + "]" * 999)
    put("manifest", "huge_numbers.json", '{"train": {"eta": 1e999, "steps": -1e999, "initial_loss": '
                                         '123456789012345678901234567890, "max_loss": 4.9e-325}}')
    put("manifest", "number_forms.json", '[-0, 0e0, 1E+2, -1.5e-3, 01, 1., .5, +1, 0x10, NaN, Infinity]')
    put("manifest", "bad_escapes.json", '{"command": "\\ud800\\udc00\\ud800\\u00zz\\x41"}')
    put("manifest", "lone_surrogates.json", '["\\udc00", "\\ud800", "\\ud800\\u0041", "\\u0000"]')
    put("manifest", "unterminated.json", '{"command": "train", "spec": {')
    put("manifest", "unterminated_string.json", '{"command": "tra')
    put("manifest", "trailing_garbage.json", '{"command": "train"} junk')
    put("manifest", "trailing_comma.json", '{"command": "train",}')
    put("manifest", "duplicate_keys.json", '{"command": "a", "command": "b"}')
    put("manifest", "nul_inside.json", b'{"command": "tr\x00ain"}')
    put("manifest", "nul_after.json", b'{"command": "train"}\x00garbage')
    put("manifest", "invalid_utf8.json", b'{"command": "\xff\xfe\xc3"}')
    put("manifest", "utf8_bom.json", "\ufeff" + json.dumps(m))
    put("manifest", "binary_junk.json", bytes((i * 197 + 3) % 256 for i in range(4096)))
    put("manifest", "big_array.json", json.dumps(list(range(10000))))
    put("manifest", "control_chars.json", '{"command": "a\tb\nc"}')


def main():
    npy_corpus()
    npz_corpus()
    idx_corpus()
    csv_corpus()
    yaml_corpus()
    params_corpus()
    checkpoint_corpus()
    manifest_corpus()
    per = {}
    for (h, _), n in written.items():
        c, b = per.get(h, (0, 0))
        per[h] = (c + 1, b + n)
    total = sum(b for _, b in per.values())
    for h in sorted(per):
        print("%-11s %4d files %8d bytes" % (h, per[h][0], per[h][1]))
    print("total       %4d files %8d bytes" % (len(written), total))
    assert total < 2 * 1024 * 1024, "corpus over 2 MiB"


if __name__ == "__main__":
    main()
