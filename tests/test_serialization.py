"""save / load / read_header: round trips, the byte layout, crafted files, atomic writes, no pickle.

Expected files are built here by hand with ``struct`` and ``json`` from docs/format.md, so the
tests check the module against the written specification rather than against itself.
"""

import ast
import hashlib
import io
import json
import math
import os
import pickle
import struct
import tempfile
from collections import OrderedDict
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
from tinynet import serialization
from tinynet.serialization import FormatError, load, read_header, save

MAGIC = b"TINYNET\x00"
ALLOWED = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
ALLOWED += ["float16", "float32", "float64"]


# -- building files by hand, from the spec ------------------------------------------------


def header_bytes(document) -> bytes:
    """UTF-8 JSON padded with spaces so that 20 + len(header) is a multiple of 64."""
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return raw + b" " * (-(20 + len(raw)) % 64)


def build_file(document, data=b"", *, magic=MAGIC, version=1, header_length=None) -> bytes:
    header = header_bytes(document)
    length = len(header) if header_length is None else header_length
    return magic + struct.pack("<IQ", version, length) + header + data


def doc(tree, metadata=None) -> dict:
    return {"metadata": metadata or {}, "tree": tree}


def arr(dtype="float32", shape=(2,), offset=0, nbytes=8) -> dict:
    return {"array": {"dtype": dtype, "shape": list(shape), "offset": offset, "nbytes": nbytes}}


def one_array(**fields) -> dict:
    return doc({"dict": [["w", arr(**fields)]]})


def write_bytes(directory, content: bytes, name="bad.tnn") -> Path:
    path = Path(directory) / name
    path.write_bytes(content)
    return path


# -- round trips --------------------------------------------------------------------------


def assert_same_tree(loaded, original, where="obj"):
    if isinstance(original, tn.Tensor):
        original = original.data
    if isinstance(original, np.ndarray):
        assert type(loaded) is np.ndarray, where
        assert loaded.dtype == original.dtype.newbyteorder("<") and loaded.dtype.isnative, where
        assert loaded.shape == original.shape, where
        little_endian = original.astype(original.dtype.newbyteorder("<"))
        assert loaded.tobytes() == little_endian.tobytes(order="C"), where
        assert loaded.flags.writeable and loaded.flags.owndata and loaded.flags.c_contiguous
    elif isinstance(original, dict):
        assert type(loaded) is dict, where
        assert [(type(k), k) for k in loaded] == [(type(k), k) for k in original], where
        for key in original:
            assert_same_tree(loaded[key], original[key], f"{where}[{key!r}]")
    elif isinstance(original, (list, tuple)):
        assert type(loaded) is type(original) and len(loaded) == len(original), where
        for i, (got, want) in enumerate(zip(loaded, original)):
            assert_same_tree(got, want, f"{where}[{i}]")
    elif isinstance(original, float):
        assert type(loaded) is float, where
        if math.isnan(original):
            assert math.isnan(loaded), where
        else:
            assert struct.pack("<d", loaded) == struct.pack("<d", original), where  # -0.0 too
    else:
        assert type(loaded) is type(original) and loaded == original, where


def round_trip(obj, **kwargs):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "state.tnn")
        save(obj, path, **kwargs)
        return load(path)


@st.composite
def any_bits_arrays(draw):
    """Arrays of an allowed dtype, either byte order, holding arbitrary bit patterns (NaN payloads,
    -0.0, subnormals), laid out C-contiguous, Fortran-ordered, transposed or strided."""
    name = draw(st.sampled_from(ALLOWED))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    if name == "bool":
        array = draw(hnp.arrays(np.bool_, shape))
    else:
        dtype = np.dtype(name).newbyteorder("<")
        size = math.prod(shape) * dtype.itemsize
        raw = draw(st.binary(min_size=size, max_size=size))
        array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        if draw(st.booleans()):
            array = array.astype(dtype.newbyteorder(">"))  # same values, big-endian bytes
    layout = draw(st.sampled_from(["C", "F", "transposed", "strided"]))
    if layout == "F":
        array = np.asfortranarray(array)
    elif layout == "transposed":
        array = array.T
    elif layout == "strided" and array.ndim:
        array = np.repeat(array, 2, axis=0)[::2]
    return array


keys = st.text(max_size=6) | st.integers(-(2**63), 2**63 - 1)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
trees = st.recursive(
    scalars | any_bits_arrays(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(keys, children, max_size=4)
        | st.dictionaries(keys, children, max_size=4).map(OrderedDict)
    ),
    max_leaves=12,
)


@given(trees)
def test_round_trip_is_exact(tree):
    assert_same_tree(round_trip(tree), tree)


@given(any_bits_arrays())
def test_array_round_trip_keeps_every_bit(array):
    assert_same_tree(round_trip({"a": array})["a"], array)


def test_round_trip_of_named_edge_values():
    nan_with_payload = np.array([0x7FC00001, 0xFFC00000, 0x7F800001], dtype=np.uint32)
    state = OrderedDict(
        [
            ("z", np.array(-0.0, dtype=np.float64)),  # 0-d
            ("a", nan_with_payload.view(np.float32)),
            ("empty", np.zeros((0, 3), dtype=np.int16)),
            ("fortran", np.asfortranarray(np.arange(6.0).reshape(2, 3))),
            ("big_endian", np.arange(4, dtype=">i4")),
            ("tensor", tn.tensor([1.0, 2.0])),
            (0, {"step": 7, "lr": 1e-3, "betas": (0.9, 0.999), "inf": -math.inf}),
            ("1", "int key 1 and str key '1' coexist"),
            (1, [None, True, False, "ünïcödé", -0.0, math.nan]),
        ]
    )
    loaded = round_trip(state)
    assert_same_tree(loaded, state)
    assert list(loaded) == ["z", "a", "empty", "fortran", "big_endian", "tensor", 0, "1", 1]
    assert loaded["a"].view(np.uint32).tolist() == [0x7FC00001, 0xFFC00000, 0x7F800001]
    assert loaded["big_endian"].dtype == np.dtype("<i4")
    assert loaded["big_endian"].tolist() == [0, 1, 2, 3]


def test_loaded_arrays_are_independent_and_writable():
    shared = np.arange(3.0)
    loaded = round_trip({"a": shared, "b": shared})
    loaded["a"][:] = 5.0
    assert loaded["b"].tolist() == [0.0, 1.0, 2.0]
    assert shared.tolist() == [0.0, 1.0, 2.0]


def test_nesting_up_to_the_limit_round_trips():
    # 100 containers; the innermost holds values that are tagged objects in the header
    deep = {"leaves": (np.arange(2), -math.inf, 7)}
    for _ in range(serialization.MAX_DEPTH - 2):
        deep = [deep]
    assert_same_tree(round_trip(deep), deep)
    with pytest.raises(ValueError, match=r"nested deeper than 100 containers"):
        save([deep], "never-written.tnn")


# -- the byte layout, checked against bytes built by hand ----------------------------------


def test_save_writes_exactly_the_documented_bytes(tmp_path):
    path = tmp_path / "model"
    state = {"w": np.array([1.0, -2.0], dtype=np.float32), 0: [3, 0.5, None], "b": np.int8([7])}
    save(state, path, metadata={"author": "me"})
    header = (
        b'{"metadata":{"author":"me"},"tree":{"dict":['
        b'["w",{"array":{"dtype":"float32","shape":[2],"offset":0,"nbytes":8}}],'
        b"[0,[3,0.5,null]],"
        b'["b",{"array":{"dtype":"int8","shape":[1],"offset":64,"nbytes":1}}]]}}'
    )
    header += b" " * (-(20 + len(header)) % 64)
    data = struct.pack("<2f", 1.0, -2.0) + bytes(56) + b"\x07"
    expected = MAGIC + struct.pack("<IQ", 2, len(header)) + header + data
    expected += hashlib.blake2b(expected, digest_size=32).digest()  # version 2's checksum
    assert path.read_bytes() == expected
    assert os.listdir(tmp_path) == ["model"]  # exactly `path`, no suffix, no leftovers


def test_load_reads_a_file_built_by_hand(tmp_path):
    document = doc(
        {
            "dict": [
                ["x", arr("float64", (2,), 0, 16)],
                [5, {"tuple": [1, {"float": "-inf"}, "s"]}],
                ["m", arr("uint16", (2, 1), 64, 4)],
                ["e", arr("bool", (0,), 128, 0)],
            ]
        },
        metadata={"k": "v"},
    )
    data = struct.pack("<2d", 0.25, -1.0) + bytes(48) + struct.pack("<2H", 1, 65535)
    path = write_bytes(tmp_path, build_file(document, data + bytes(60)))
    loaded = load(path)
    assert list(loaded) == ["x", 5, "m", "e"]
    assert loaded["x"].tolist() == [0.25, -1.0] and loaded["x"].dtype == np.float64
    assert loaded[5] == (1, -math.inf, "s")
    assert loaded["m"].tolist() == [[1], [65535]] and loaded["m"].dtype == np.uint16
    assert loaded["e"].shape == (0,) and loaded["e"].dtype == np.bool_
    header = read_header(path)
    assert header.version == 1 and header.metadata == {"k": "v"}
    assert header.data_offset % 64 == 0
    assert [where for where, _ in header.arrays] == ["obj['x']", "obj['m']", "obj['e']"]
    assert header.tree["m"] == serialization.ArrayInfo(np.dtype(np.uint16), (2, 1), 64, 4)


def test_read_header_does_not_read_the_arrays(tmp_path, monkeypatch):
    path = tmp_path / "big.tnn"
    save({"w": np.zeros(2**20, dtype=np.uint8)}, path)
    requested = []

    class CountingReader(io.BufferedReader):
        def read(self, size=-1):
            requested.append(size)
            return super().read(size)

        def readinto(self, buffer):
            requested.append(len(memoryview(buffer)))
            return super().readinto(buffer)

    monkeypatch.setattr(
        serialization, "open", lambda p, mode: CountingReader(io.FileIO(p, mode)), raising=False
    )
    header = read_header(path)
    assert header.tree["w"].nbytes == 2**20
    assert 0 < sum(requested) < 1000


def test_metadata_round_trips_and_must_be_strings(tmp_path):
    path = tmp_path / "m.tnn"
    save({}, path, metadata={"tinynet": "0.1.0", "note": "ünï"})
    assert read_header(path).metadata == {"tinynet": "0.1.0", "note": "ünï"}
    assert load(path) == {}
    with pytest.raises(TypeError, match="metadata must map strings to strings"):
        save({}, tmp_path / "n.tnn", metadata={"epochs": 3})
    with pytest.raises(TypeError, match="metadata must be a dict of strings, got list"):
        save({}, tmp_path / "n.tnn", metadata=["a"])


# -- what save refuses ---------------------------------------------------------------------

REFUSED_TYPES = [
    ({"layers": [1, 2, object()]}, r"obj\['layers'\]\[2\]: objects of type object"),
    ({"f": lambda x: x}, r"obj\['f'\]: objects of type function"),
    ([{1, 2}], r"obj\[0\]: objects of type set .*sorted list"),
    ({"c": 1 + 2j}, r"obj\['c'\]: objects of type complex"),
    ({"b": b"raw"}, r"obj\['b'\]: objects of type bytes .*np.frombuffer"),
    ({"o": np.array([1, None], dtype=object)}, r"obj\['o'\]: arrays of dtype object"),
    ({"z": np.zeros(2, np.complex64)}, r"obj\['z'\]: arrays of dtype complex64"),
    ({"l": np.zeros(2, np.longdouble)}, r"obj\['l'\]: arrays of dtype float128"),
    ({"u": np.array(["text"])}, r"obj\['u'\]: arrays of dtype <U4"),
    ({"t": np.array(["2020-01-01"], "M8[D]")}, r"obj\['t'\]: arrays of dtype datetime64"),
    ({"s": np.zeros(2, [("a", "f4")])}, r"obj\['s'\]: arrays of dtype \[\('a', '<f4'\)\]"),
    ({"m": np.ma.array([1.0], mask=[True])}, r"obj\['m'\]: masked arrays would lose"),
    ({"n": np.int64(3)}, r"obj\['n'\]: objects of type int64 .*\.item\(\)"),
    ({"n": np.float32(0.5)}, r"obj\['n'\]: objects of type float32"),
    ({"k": {1.5: 1}}, r"obj\['k'\]: dict keys must be str or int, got float key 1.5"),
    ({"k": {(1, 2): 1}}, r"obj\['k'\]: dict keys must be str or int, got tuple"),
    ({"k": {True: 1}}, r"obj\['k'\]: dict keys must be str or int, got bool"),
    ({"k": {np.int64(1): 1}}, r"obj\['k'\]: dict keys must be str or int, got int64"),
]


def _cycle():
    loop = {"a": []}
    loop["a"].append(loop)
    return loop


def _nested(levels):
    tree = 0
    for _ in range(levels):
        tree = [tree]
    return tree


REFUSED_VALUES = [
    ({"step": 2**63}, r"obj\['step'\]: the int 9223372036854775808 does not fit in 64 bits"),
    ({-(2**63) - 1: 0}, r"obj\[-9223372036854775809\]: the int .* does not fit in 64 bits"),
    (_cycle(), r"obj\['a'\]\[0\]: it contains itself"),
    (_nested(101), r"obj(\[0\]){100}: nested deeper than 100 containers"),
    ({"s": "\ud800"}, r"obj\['s'\]: the string is not valid UTF-8"),
    ({"a": np.zeros((1,) * 33)}, r"obj\['a'\]: arrays may have at most 32 dimensions"),
]


@pytest.mark.parametrize(
    ("obj", "message", "error"),
    [(*case, TypeError) for case in REFUSED_TYPES]
    + [(*case, ValueError) for case in REFUSED_VALUES],
)
def test_save_refuses_what_it_cannot_store(tmp_path, obj, message, error):
    target = tmp_path / "state.tnn"
    target.write_bytes(b"previous contents")
    with pytest.raises(error, match=r"^cannot save " + message):
        save(obj, target)
    assert target.read_bytes() == b"previous contents"
    assert os.listdir(tmp_path) == ["state.tnn"]


# -- crafted, corrupted and foreign files ---------------------------------------------------

GOOD_DATA = struct.pack("<2f", 1.0, 2.0)


def two_arrays(first, second):
    return doc({"dict": [["a", arr(**first)], ["b", arr(**second)]]})


CRAFTED = {
    "empty": (b"", r"truncated file: 0 bytes, shorter than the 20-byte preamble"),
    "short": (MAGIC[:5], r"truncated file: 5 bytes, shorter than the 20-byte preamble"),
    "only magic": (MAGIC + b"\x01", r"truncated file: 9 bytes"),
    "wrong magic": (
        build_file(one_array(), GOOD_DATA, magic=b"NOTTINY\x00"),
        r"not a tinynet file \(it starts with b'NOTTINY\\x00', not b'TINYNET\\x00'\)",
    ),
    "pickle": (pickle.dumps({"a": 1}), r"not a tinynet file \(it looks like a Python pickle"),
    "zip": (b"PK\x03\x04" + bytes(40), r"not a tinynet file \(it looks like a zip archive"),
    "npy": (b"\x93NUMPY\x01\x00" + bytes(40), r"it looks like a NumPy \.npy file"),
    "version 0": (
        build_file(one_array(), GOOD_DATA, version=0),
        r"unsupported format version 0; this tinynet reads versions 1 to 2$",
    ),
    "future version": (
        build_file(one_array(), GOOD_DATA, version=3),
        r"unsupported format version 3; .* \(upgrade tinynet\)",
    ),
    "header length 2**64-1": (
        build_file(one_array(), GOOD_DATA, header_length=2**64 - 1),
        r"header length 18446744073709551615 bytes exceeds the limit of 104857600 bytes",
    ),
    "header length over the cap": (
        build_file(one_array(), GOOD_DATA, header_length=100 * 2**20 + 1),
        r"header length 104857601 bytes exceeds the limit",
    ),
    "header longer than the file": (
        build_file(one_array(), GOOD_DATA, header_length=6400),
        r"truncated file: the header needs 6400 bytes but only \d+ follow the preamble",
    ),
    "header end unaligned": (
        build_file(b"{}", bytes(100), header_length=45),
        r"header length 45 does not end on a 64-byte boundary",
    ),
    "not UTF-8": (build_file(b'{"\xff\xfe":1}'), r"the header is not valid UTF-8"),
    "not JSON": (build_file(b"{not json"), r"the header is not valid JSON \(Expecting"),
    "trailing garbage": (
        build_file(json.dumps(doc(None)).encode() + b" x"),
        r"the header is not valid JSON \(Extra data",
    ),
    "header is a list": (build_file([1]), r"the header must be a JSON object, got an array"),
    "duplicate header key": (
        build_file(b'{"metadata":{},"tree":null,"tree":1}'),
        r"duplicate key 'tree' in the header",
    ),
    "duplicate descriptor key": (
        build_file(
            b'{"metadata":{},"tree":{"array":{"dtype":"float32","shape":[2],"offset":0,'
            b'"offset":64,"nbytes":8}}}',
            bytes(72),
        ),
        r"duplicate key 'offset' in the header",
    ),
    "NaN token": (build_file(b'{"metadata":{},"tree":NaN}'), r"contains NaN, which is not JSON"),
    "-Infinity token": (
        build_file(b'{"metadata":{},"tree":[-Infinity]}'),
        r"contains -Infinity, which is not JSON",
    ),
    "overflowing float": (
        build_file(b'{"metadata":{},"tree":[1e999]}'),
        r"the header contains the out-of-range number 1e999",
    ),
    "overflowing offset": (
        build_file(
            b'{"metadata":{},"tree":{"array":{"dtype":"int8","shape":[],"offset":1e400,'
            b'"nbytes":1}}}',
            bytes(1),
        ),
        r"out-of-range number 1e400",
    ),
    "oversized integer": (
        build_file(b'{"metadata":{},"tree":[' + b"9" * 5000 + b"]}"),
        r"the header contains the oversized integer 99999999999999999999\.\.\.$",
    ),
    "missing tree": (build_file({"metadata": {}}), r"the header lacks \['tree'\]"),
    "unexpected header key": (
        build_file({"metadata": {}, "tree": None, "extra": 1}),
        r"unexpected keys \['extra'\] in the header",
    ),
    "metadata not strings": (
        build_file(doc(None, metadata={"epochs": 3})),
        r"the header's metadata must be an object of strings",
    ),
    "depth bomb": (
        build_file(b'{"metadata":{},"tree":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        r"the header nests too deeply to parse",
    ),
    "tree too deep": (
        build_file(doc(_nested(101))),
        r"obj(\[0\]){100}: nested deeper than 100 containers",
    ),
    "tree int out of range": (
        build_file(doc({"dict": [["step", 2**63]]})),
        r"obj\['step'\]: integer 9223372036854775808 is outside \[-9223372036854775808, ",
    ),
    "two tags": (
        build_file(doc({"dict": [], "tuple": []})),
        r"obj: a JSON object in the tree must have exactly one key .*got \['dict', 'tuple'\]",
    ),
    "plain object in tree": (
        build_file(doc({"__reduce__": "os.system"})),
        r"obj: unknown tag '__reduce__'",
    ),
    "bad float tag": (
        build_file(doc([{"float": "1.5"}])),
        r"obj\[0\]: 'float' must be 'nan', 'inf' or '-inf', got '1.5'",
    ),
    "tuple not a list": (
        build_file(doc({"tuple": "ab"})),
        r"obj: 'tuple' must hold an array, got a string",
    ),
    "dict body not pairs": (
        build_file(doc({"dict": {"a": 1}})),
        r"obj: 'dict' must hold an array of \[key, value\] pairs, got an object",
    ),
    "dict item not a pair": (
        build_file(doc({"dict": [["a"]]})),
        r"obj: item 0 of 'dict' is not a \[key, value\] pair",
    ),
    "dict key float": (
        build_file(doc({"dict": [[1.5, 1]]})),
        r"obj: dict keys must be strings or integers, got a number",
    ),
    "dict key null": (
        build_file(doc({"dict": [[None, 1]]})),
        r"obj: dict keys must be strings or integers, got null",
    ),
    "duplicate dict key": (
        build_file(doc({"dict": [["a", 1], ["a", 2]]})),
        r"obj: duplicate dict key 'a'",
    ),
    "array not an object": (
        build_file(doc({"array": [1]})),
        r"obj: 'array' must hold an object, got an array",
    ),
    "array key missing": (
        build_file(doc({"array": {"dtype": "int8", "shape": [], "offset": 0}}), bytes(1)),
        r"obj: an array needs exactly the keys \['dtype', 'shape', 'offset', 'nbytes'\]",
    ),
    "array key extra": (
        build_file(doc({"array": {**arr()["array"], "path": "/etc/passwd"}}), GOOD_DATA),
        r"obj: an array needs exactly the keys",
    ),
    "unknown dtype": (
        build_file(one_array(dtype="object"), GOOD_DATA),
        r"obj\['w'\]: unknown dtype 'object'; allowed: bool, int8, .*float64$",
    ),
    "dtype with byte order": (
        build_file(one_array(dtype="<f4"), GOOD_DATA),
        r"obj\['w'\]: unknown dtype '<f4'",
    ),
    "dtype float128": (
        build_file(one_array(dtype="float128", nbytes=32), bytes(32)),
        r"unknown dtype 'float128'",
    ),
    "dtype not a string": (build_file(one_array(dtype=5), GOOD_DATA), r"unknown dtype 5;"),
    "shape not a list": (
        build_file(doc({"array": {**arr()["array"], "shape": "2"}}), GOOD_DATA),
        r"obj: shape must be an array of integers, got a string",
    ),
    "negative dimension": (
        build_file(one_array(shape=[-2]), GOOD_DATA),
        r"obj\['w'\]: dimension -2 is outside \[0, 9223372036854775807\]",
    ),
    "float dimension": (
        build_file(one_array(shape=[2.0]), GOOD_DATA),
        r"obj\['w'\]: dimension must be an integer, got a number 2.0",
    ),
    "bool dimension": (
        build_file(one_array(shape=[True, 2]), GOOD_DATA),
        r"obj\['w'\]: dimension must be an integer, got a boolean True",
    ),
    "huge dimension": (
        build_file(one_array(shape=[2**63], nbytes=0), GOOD_DATA),
        r"obj\['w'\]: dimension 9223372036854775808 is outside",
    ),
    "too many dimensions": (
        build_file(one_array(shape=[1] * 33, nbytes=4), bytes(4)),
        r"obj\['w'\]: shape has 33 dimensions, more than 32",
    ),
    "absurd empty shape": (
        build_file(one_array(shape=[0, 2**62], nbytes=0)),
        r"obj\['w'\]: shape \[0, 4611686018427387904\] is too large for any array",
    ),
    "nbytes mismatch": (
        build_file(one_array(nbytes=12), bytes(12)),
        r"obj\['w'\]: nbytes 12 does not match shape \[2\] of float32 \(8 bytes\)",
    ),
    "negative offset": (
        build_file(one_array(offset=-64), GOOD_DATA),
        r"obj\['w'\]: offset -64 is outside \[0, ",
    ),
    "float offset": (
        build_file(one_array(offset=0.0), GOOD_DATA),
        r"obj\['w'\]: offset must be an integer, got a number 0.0",
    ),
    "string nbytes": (
        build_file(one_array(nbytes="8"), GOOD_DATA),
        r"obj\['w'\]: nbytes must be an integer, got a string '8'",
    ),
    "unaligned offset": (
        build_file(one_array(offset=8), bytes(16)),
        r"obj\['w'\]: offset 8 is not a multiple of 64",
    ),
    "offset past the end": (
        build_file(one_array(offset=64), GOOD_DATA),
        r"truncated or corrupted file: obj\['w'\] needs bytes 64\.\.72 of the data section, "
        r"which has 8",
    ),
    "huge array in a tiny file": (
        build_file(one_array(shape=[10**12], nbytes=4 * 10**12), GOOD_DATA),
        r"obj\['w'\] needs bytes 0\.\.4000000000000 of the data section, which has 8",
    ),
    "truncated data": (
        build_file(one_array(), GOOD_DATA[:5]),
        r"truncated or corrupted file: obj\['w'\] needs bytes 0\.\.8 of the data section, which has 5",
    ),
    "same offset": (
        build_file(two_arrays({}, {}), GOOD_DATA),
        r"arrays obj\['a'\] and obj\['b'\] overlap",
    ),
    "partial overlap": (
        build_file(
            doc(
                {
                    "dict": [
                        ["a", arr(shape=[32], offset=0, nbytes=128)],
                        ["b", arr(offset=64)],
                        ["c", arr(shape=[16], offset=128, nbytes=64)],
                    ]
                }
            ),
            bytes(192),
        ),
        r"arrays obj\['a'\] and obj\['b'\] overlap",
    ),
    "overlap with an earlier long array": (
        build_file(
            two_arrays({"shape": [64], "offset": 0, "nbytes": 256}, {"offset": 192}), bytes(256)
        ),
        r"arrays obj\['a'\] and obj\['b'\] overlap",
    ),
    "trailing bytes": (
        build_file(one_array(), GOOD_DATA + bytes(56)),
        r"56 unexpected bytes after the last array$",
    ),
    "bytes but no arrays": (build_file(doc([1, 2]), b"\x80\x04"), r"2 unexpected bytes"),
}


@pytest.mark.parametrize(("content", "message"), CRAFTED.values(), ids=CRAFTED.keys())
def test_crafted_files_are_refused_before_any_large_allocation(
    tmp_path, monkeypatch, content, message
):
    path = write_bytes(tmp_path, content)
    allocated = []
    real_empty = np.empty

    def recording_empty(shape, dtype=float, *args, **kwargs):
        allocated.append(math.prod(np.atleast_1d(shape).tolist()) * np.dtype(dtype).itemsize)
        return real_empty(shape, dtype, *args, **kwargs)

    monkeypatch.setattr(np, "empty", recording_empty)
    for reader in (read_header, load):
        with pytest.raises(FormatError, match=message) as caught:
            reader(path)
        assert str(caught.value).startswith(f"{path}: ")
    assert sum(allocated) <= len(content)


def test_a_bool_array_must_hold_zeros_and_ones(tmp_path):
    path = write_bytes(tmp_path, build_file(one_array(dtype="bool", nbytes=2), b"\x01\x02"))
    assert read_header(path).arrays[0][1].nbytes == 2  # the header alone is valid
    with pytest.raises(FormatError, match=r"obj\['w'\]: a bool array holds bytes other than 0"):
        load(path)


def test_format_error_is_a_value_error_and_missing_files_are_not_format_errors(tmp_path):
    assert issubclass(FormatError, ValueError)
    for reader in (load, read_header):
        with pytest.raises(FileNotFoundError):
            reader(tmp_path / "missing.tnn")


# -- atomic writes -----------------------------------------------------------------------------


@pytest.fixture
def existing(tmp_path):
    path = tmp_path / "model.tnn"
    save({"version": "old"}, path)
    return path, path.read_bytes()


def assert_untouched(path, old_bytes):
    assert path.read_bytes() == old_bytes
    assert os.listdir(path.parent) == [path.name]  # no temporary file left behind
    assert load(path) == {"version": "old"}


def test_failed_fsync_leaves_the_old_file(existing, monkeypatch):
    path, old = existing

    def failing_fsync(descriptor):
        raise OSError(5, "simulated I/O error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="simulated I/O error"):
        save({"version": "new", "w": np.ones(10)}, path)
    monkeypatch.undo()
    assert_untouched(path, old)


def test_failed_rename_leaves_the_old_file(existing, monkeypatch):
    path, old = existing

    def failing_replace(source, target):
        raise PermissionError(13, "simulated rename failure")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(PermissionError):
        save({"version": "new"}, path)
    monkeypatch.undo()
    assert_untouched(path, old)


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failure_mid_write_leaves_the_old_file(existing, monkeypatch, error):
    path, old = existing
    real_fdopen = os.fdopen
    written = []

    class FailingFile(io.FileIO):
        def write(self, data):
            if sum(written) > 100:  # after the preamble, header and some array bytes
                raise error
            written.append(len(memoryview(data).cast("B")))
            return super().write(data)

    def fdopen(descriptor, mode="r", *args, **kwargs):
        assert mode == "wb"
        return io.BufferedWriter(FailingFile(descriptor, "wb"), buffer_size=1)

    monkeypatch.setattr(os, "fdopen", fdopen)
    with pytest.raises(type(error)):
        save({"version": "new", "w": np.ones(1000)}, path)
    monkeypatch.setattr(os, "fdopen", real_fdopen)
    assert sum(written) > 100  # it did fail mid-write
    assert_untouched(path, old)


def test_save_replaces_an_existing_file_and_keeps_the_umask_mode(tmp_path):
    path = tmp_path / "model.tnn"
    path.write_bytes(b"old")
    previous = os.umask(0o022)
    try:
        save({"a": 1}, path)
    finally:
        os.umask(previous)
    assert load(path) == {"a": 1}
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o644


def test_save_into_a_missing_directory_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        save({}, tmp_path / "no" / "such" / "dir.tnn")


# -- never pickle -----------------------------------------------------------------------------

FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle"}
FORBIDDEN_MODULES |= {"joblib"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "load", "loads", "fromfile"}


def test_the_module_source_never_imports_pickle_or_evaluates_code():
    tree = ast.parse(Path(serialization.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not {alias.name.split(".")[0] for alias in node.names} & FORBIDDEN_MODULES
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in FORBIDDEN_MODULES
        if isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else None
            if isinstance(node.func, ast.Name):
                called = node.func.id
            # json.loads is the one loader allowed: it builds only dicts, lists and scalars
            is_json_loads = (
                isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "json"
            )
            assert called not in FORBIDDEN_CALLS or is_json_loads, ast.unparse(node)
        if isinstance(node, ast.Name):
            assert node.id not in FORBIDDEN_MODULES


_unpickled = []


class _Trap:
    def __reduce__(self):
        return (_unpickled.append, ("code from the file ran",))


def test_a_pickle_payload_in_the_data_section_is_just_bytes(tmp_path, monkeypatch):
    payload = pickle.dumps(_Trap())
    path = tmp_path / "payload.tnn"
    save({"blob": np.frombuffer(payload, dtype=np.uint8)}, path)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("pickle was used")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, no_unpickling)
    loaded = load(path)
    assert loaded["blob"].tobytes() == payload
    assert _unpickled == []
    with pytest.raises(FormatError, match="looks like a Python pickle"):
        load(write_bytes(tmp_path, payload, "model.pkl"))
    assert _unpickled == []


# -- version 2: the checksum ---------------------------------------------------------------


def test_every_single_bit_flip_is_refused(tmp_path):
    path = tmp_path / "small.tnn"
    save({"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": 3}, path, metadata={"a": "b"})
    original = path.read_bytes()
    assert len(original) < 400  # keeps the sweep fast: one load per bit
    with open(path, "r+b") as file:
        for position in range(len(original)):
            for bit in range(8):
                file.seek(position)
                file.write(bytes([original[position] ^ (1 << bit)]))
                file.flush()
                with pytest.raises(FormatError):
                    load(path)
            file.seek(position)
            file.write(original[position : position + 1])
    assert load(path)["step"] == 3  # restored: loads again


def test_a_checksum_mismatch_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "model.tnn"
    save({"w": np.ones(4)}, path)
    content = bytearray(path.read_bytes())
    content[-40] ^= 0x10  # a bit of the array data
    path.write_bytes(bytes(content))
    with pytest.raises(FormatError) as error:
        load(path)
    assert str(error.value) == (
        f"{path}: checksum mismatch: the file was corrupted or changed after it was saved"
    )


def test_version_1_files_still_load(tmp_path):
    document = one_array(shape=(2,), nbytes=8)
    path = write_bytes(tmp_path, build_file(document, GOOD_DATA, version=1))
    assert read_header(path).version == 1
    np.testing.assert_array_equal(load(path)["w"], np.frombuffer(GOOD_DATA, "<f4"))


def test_a_file_too_short_for_its_checksum_is_truncated(tmp_path):
    path = tmp_path / "model.tnn"
    save({}, path)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(FormatError, match="checksum mismatch|truncated"):
        load(path)
    path.write_bytes(MAGIC + struct.pack("<IQ", 2, 0) + b"x")
    with pytest.raises(FormatError, match="too short for the preamble and the 32-byte checksum"):
        load(path)


def test_a_garbage_version_is_called_corrupt_not_new(tmp_path):
    path = write_bytes(tmp_path, build_file(one_array(), GOOD_DATA, version=2**31 + 2))
    with pytest.raises(FormatError, match=r"version 2147483650; .* \(the file is corrupted\)$"):
        load(path)


@pytest.mark.parametrize(
    "tree", [{"dict": [["w", "\ud800"]]}, {"dict": [["\udfff", 1]]}], ids=["value", "key"]
)
def test_lone_surrogates_in_strings_are_refused(tmp_path, tree):
    path = write_bytes(tmp_path, build_file(doc(tree)))
    with pytest.raises(FormatError, match="lone surrogate"):
        load(path)


def test_lone_surrogates_in_metadata_are_refused(tmp_path):
    path = write_bytes(tmp_path, build_file(doc([], metadata={"note": "\udc80"})))
    with pytest.raises(FormatError, match="lone surrogate"):
        read_header(path)
