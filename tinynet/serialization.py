"""Save and load state dicts in a documented, versioned file of JSON metadata and raw arrays.

The layout is specified in ``docs/format.md``: a fixed preamble (magic, version, header length),
a UTF-8 JSON header describing the tree, the raw little-endian bytes of each array, then (since
version 2) a BLAKE2b checksum of everything before it. Loading verifies the checksum, parses
JSON and copies bytes, nothing else: it never executes code from the file, and every size in the
header is checked against the file's size before anything is allocated.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinynet import _device
from tinynet._files import output_file
from tinynet.tensor import Tensor

__all__ = [
    "CHECKSUM_BYTES",
    "FORMAT_VERSION",
    "MAGIC",
    "ArrayInfo",
    "FormatError",
    "Header",
    "load",
    "read_header",
    "save",
]

MAGIC = b"TINYNET\x00"
FORMAT_VERSION = 2
# Version 2 ends with hashlib.blake2b(digest_size=CHECKSUM_BYTES) of every byte before it.
CHECKSUM_BYTES = 32
_CHECKSUM_FROM_VERSION = 2
_CHUNK_BYTES = 2**20
# A version this far above ours is a corrupt field, not a newer tinynet.
_PLAUSIBLE_VERSIONS = 1000
# magic, format version (uint32), header length in bytes (uint64); all little-endian
_PREAMBLE = struct.Struct("<8sIQ")
ALIGNMENT = 64
MAX_HEADER_BYTES = 100 * 2**20
MAX_DEPTH = 100  # nested containers; far beyond any state dict, far below the recursion limit
MAX_NDIM = 32  # NumPy 1.x's limit, so every supported NumPy can hold what we load
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_MAX_ARRAY_BYTES = 2**63 - 1  # what NumPy allows for size * itemsize, counting nonzero dims
_PREVIEW_CHARS = 60

_DTYPES = {
    name: np.dtype(name).newbyteorder("<")
    for name in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
    )
}
_DTYPE_NAMES = {(dtype.kind, dtype.itemsize): name for name, dtype in _DTYPES.items()}
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_HEADER_KEYS = {"metadata", "tree"}
_ARRAY_KEYS = ("dtype", "shape", "offset", "nbytes")
_FILE_SIGNATURES = {
    b"\x80": "a Python pickle (tinynet never loads pickles)",
    b"PK\x03\x04": "a zip archive, e.g. from torch.save or np.savez (tinynet never loads pickles)",
    b"\x93NUMPY": "a NumPy .npy file; load it with np.load(path, allow_pickle=False)",
}


class FormatError(ValueError):
    """The file is not a valid tinynet file: truncated, corrupted, crafted or from a newer version."""


@dataclass(frozen=True)
class ArrayInfo:
    """Where an array lies in the file: ``offset`` counts from the start of the data section."""

    dtype: np.dtype
    shape: tuple[int, ...]
    offset: int
    nbytes: int


@dataclass(frozen=True)
class Header:
    """A file's header: the saved tree with an ``ArrayInfo`` in place of each array.

    ``arrays`` lists ``(path, info)`` in the order the arrays appear in the tree, with paths
    written as in error messages, e.g. ``"obj['layers'][2]"``.
    """

    version: int
    metadata: dict[str, str]
    tree: Any
    arrays: tuple[tuple[str, ArrayInfo], ...]
    data_offset: int


# -- saving -------------------------------------------------------------------------------


def save(obj: Any, path: str | os.PathLike, *, metadata: dict[str, str] | None = None) -> None:
    """Write ``obj`` (nested dicts, lists and tuples of arrays and scalars) to exactly ``path``.

    Tensors are saved as their arrays. The write is atomic: a temporary file in the same
    directory is written, flushed to disk, then renamed over ``path``; on any error ``path`` is
    left as it was. A symbolic link is written through to its target; a FIFO or a device
    (``/dev/stdout``) is written in place as a stream. ``metadata`` is an optional dict of
    strings stored in the header. The file ends with a checksum that ``load`` verifies.

    >>> import numpy as np
    >>> save({"weight": np.eye(2), "step": 3}, "model.tnn")
    >>> load("model.tnn")["step"]
    3
    """
    path = os.fsdecode(path)
    metadata = _checked_metadata(metadata)
    encoder = _Encoder()
    tree = encoder.encode(obj, "obj", depth=0)
    header = json.dumps(
        {"metadata": metadata, "tree": tree},
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")
    # Pad with JSON whitespace so the data section starts aligned.
    header += b" " * (_aligned(_PREAMBLE.size + len(header)) - _PREAMBLE.size - len(header))

    with output_file(path, "wb") as file:
        checksum = hashlib.blake2b(digest_size=CHECKSUM_BYTES)

        def write(data) -> None:
            checksum.update(data)
            file.write(data)

        write(_PREAMBLE.pack(MAGIC, FORMAT_VERSION, len(header)))
        write(header)
        position = 0
        for offset, array in encoder.arrays:
            write(bytes(offset - position))
            if array.size:
                little_endian = array.astype(
                    _DTYPES[str(_dtype_name(array.dtype))], order="C", copy=False
                )
                write(little_endian.reshape(-1).view(np.uint8))
            position = offset + array.nbytes
        file.write(checksum.digest())


def _aligned(position: int) -> int:
    return -(-position // ALIGNMENT) * ALIGNMENT


def _dtype_name(dtype: np.dtype) -> str | None:
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        return None
    return _DTYPE_NAMES.get((dtype.kind, dtype.itemsize))


def _checked_metadata(metadata) -> dict[str, str]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict of strings, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"metadata must map strings to strings, got {key!r}: {type(value).__name__}"
            )
        _check_utf8(key, "metadata key")
        _check_utf8(value, f"metadata[{key!r}]")
    return dict(metadata)


def _check_utf8(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"cannot save {where}: the string is not valid UTF-8 ({error})") from None


def _check_int(value: int, where: str) -> int:
    if not _INT_MIN <= value <= _INT_MAX:
        raise ValueError(f"cannot save {where}: the int {value} does not fit in 64 bits")
    return int(value)


class _Encoder:
    """Turns a tree into its JSON form, assigning each array its place in the data section."""

    def __init__(self):
        self.arrays: list[tuple[int, np.ndarray]] = []
        self.end = 0
        self.open_containers: set[int] = set()

    def encode(self, value, path: str, depth: int):
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            _check_utf8(value, path)
            return value
        if isinstance(value, int):
            return _check_int(value, path)
        if isinstance(value, float):
            if math.isfinite(value):
                return float(value)
            return {"float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
        if isinstance(value, Tensor):
            value = value.data
        if isinstance(value, np.ndarray):
            return {"array": self.add_array(value, path)}
        if isinstance(value, (dict, list, tuple)):
            if depth >= MAX_DEPTH:
                raise ValueError(f"cannot save {path}: nested deeper than {MAX_DEPTH} containers")
            if id(value) in self.open_containers:
                raise ValueError(f"cannot save {path}: it contains itself")
            self.open_containers.add(id(value))
            try:
                return self.encode_container(value, path, depth)
            finally:
                self.open_containers.discard(id(value))
        raise TypeError(_unsupported_message(value, path))

    def encode_container(self, value, path: str, depth: int):
        if isinstance(value, dict):
            items = []
            for key, item in value.items():
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise TypeError(
                        f"cannot save {path}: dict keys must be str or int, got "
                        f"{type(key).__name__} key {_preview(key)}"
                    )
                key_path = f"{path}[{key!r}]"
                if isinstance(key, str):
                    _check_utf8(key, key_path)
                else:
                    key = _check_int(key, key_path)
                items.append([key, self.encode(item, key_path, depth + 1)])
            return {"dict": items}
        items = [self.encode(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
        return items if isinstance(value, list) else {"tuple": items}

    def add_array(self, array: np.ndarray, path: str) -> dict:
        if isinstance(array, np.ma.MaskedArray):
            raise TypeError(
                f"cannot save {path}: masked arrays would lose their mask; save "
                "array.data and array.mask separately"
            )
        name = _dtype_name(array.dtype)
        if name is None:
            raise TypeError(
                f"cannot save {path}: arrays of dtype {array.dtype} are not supported; "
                f"supported dtypes: {', '.join(_DTYPES)}"
            )
        if array.ndim > MAX_NDIM:
            raise ValueError(f"cannot save {path}: arrays may have at most {MAX_NDIM} dimensions")
        offset = _aligned(self.end)
        self.arrays.append((offset, array))
        self.end = offset + array.nbytes
        return {
            "dtype": name,
            "shape": list(array.shape),
            "offset": offset,
            "nbytes": array.nbytes,
        }


def _unsupported_message(value, path: str) -> str:
    hint = ""
    if isinstance(value, np.generic):
        hint = " (convert NumPy scalars with .item(), or np.asarray(x) to keep the dtype)"
    elif isinstance(value, (set, frozenset)):
        hint = " (convert it to a sorted list)"
    elif isinstance(value, (bytes, bytearray, memoryview)):
        hint = " (save np.frombuffer(data, dtype=np.uint8) instead)"
    return (
        f"cannot save {path}: objects of type {type(value).__qualname__} are not supported; a "
        "file holds nested dicts, lists and tuples of arrays, tensors, ints, floats, strings, "
        f"bools and None{hint}"
    )


# -- loading ------------------------------------------------------------------------------


def load(path: str | os.PathLike, map_location=None, *, weights_only: bool = True) -> Any:
    """Read a tree written by ``save``: arrays come back as writable NumPy arrays owning memory.

    Dicts come back as dicts (in saved order, int keys kept as ints), lists as lists, tuples as
    tuples, tensors as arrays. Raises ``FormatError`` (a ``ValueError``) for any file that is
    not a valid tinynet file; never executes code from the file. PyTorch's ``map_location``
    (the CPU only) and ``weights_only`` are accepted: a tinynet file only ever holds data.

    >>> import numpy as np
    >>> save({0: {"momentum": np.zeros(3)}}, "optim.tnn")
    >>> load("optim.tnn")[0]["momentum"]
    array([0., 0., 0.])
    """
    if map_location is not None:
        _device.check(map_location)
    name = os.fsdecode(path)
    with open(path, "rb") as file:
        header = _read_header(file, name, verify=True)
        arrays = {
            id(info): _read_array(file, header.data_offset, info, where, name)
            for where, info in header.arrays
        }
    return _substitute(header.tree, arrays)


def read_header(path: str | os.PathLike) -> Header:
    """Read and validate a file's header without reading its arrays (so without verifying
    the checksum, which covers them: ``load`` does).

    >>> import numpy as np
    >>> save({"w": np.ones((2, 3), np.float32)}, "w.tnn", metadata={"note": "demo"})
    >>> header = read_header("w.tnn")
    >>> header.metadata, header.arrays[0][0], header.tree["w"].shape
    ({'note': 'demo'}, "obj['w']", (2, 3))
    """
    name = os.fsdecode(path)
    with open(path, "rb") as file:
        return _read_header(file, name, verify=False)


def _read_header(file, name: str, verify: bool) -> Header:
    file_size = os.fstat(file.fileno()).st_size
    version, header_size = _read_preamble(file, name)
    data_end = file_size
    if version >= _CHECKSUM_FROM_VERSION:
        data_end = file_size - CHECKSUM_BYTES
        if data_end < _PREAMBLE.size:
            raise FormatError(
                f"{name}: truncated file: {file_size} bytes, too short for the preamble and "
                f"the {CHECKSUM_BYTES}-byte checksum"
            )
        if verify:
            _verify_checksum(file, data_end, name)
            file.seek(_PREAMBLE.size)
    if header_size > MAX_HEADER_BYTES:
        raise FormatError(
            f"{name}: header length {header_size} bytes exceeds the limit of "
            f"{MAX_HEADER_BYTES} bytes"
        )
    data_offset = _PREAMBLE.size + header_size
    if data_offset > data_end:
        raise FormatError(
            f"{name}: truncated file: the header needs {header_size} bytes but only "
            f"{data_end - _PREAMBLE.size} follow the preamble"
        )
    if data_offset % ALIGNMENT:
        raise FormatError(
            f"{name}: header length {header_size} does not end on a {ALIGNMENT}-byte boundary"
        )
    document = _checked_document(file.read(header_size), name)
    decoder = _Decoder(name)
    tree = decoder.decode(document["tree"], "obj", depth=0)
    decoder.check_layout(data_end - data_offset)
    return Header(version, document["metadata"], tree, tuple(decoder.arrays), data_offset)


def _read_preamble(file, name: str) -> tuple[int, int]:
    """The format version and header length of the preamble, refused if not a tinynet file,
    truncated, or of a version this tinynet cannot read."""
    preamble = file.read(_PREAMBLE.size)
    if preamble[: len(MAGIC)] != MAGIC[: len(preamble)]:
        raise FormatError(f"{name}: not a tinynet file ({_describe_start(preamble)})")
    if len(preamble) < _PREAMBLE.size:
        raise FormatError(
            f"{name}: truncated file: {len(preamble)} bytes, shorter than the "
            f"{_PREAMBLE.size}-byte preamble"
        )
    _, version, header_size = _PREAMBLE.unpack(preamble)
    if version == 0 or version > FORMAT_VERSION:
        if FORMAT_VERSION < version <= FORMAT_VERSION + _PLAUSIBLE_VERSIONS:
            hint = " (upgrade tinynet)"
        elif version:
            hint = " (the file is corrupted)"
        else:
            hint = ""
        raise FormatError(
            f"{name}: unsupported format version {version}; this tinynet reads versions 1 to "
            f"{FORMAT_VERSION}{hint}"
        )
    return version, header_size


def _checked_document(raw: bytes, name: str) -> dict:
    """The header's JSON object, with exactly the expected keys and string metadata."""
    document = _parse_json(raw, name)
    if not isinstance(document, dict):
        raise FormatError(f"{name}: the header must be a JSON object, got {_json_type(document)}")
    if missing := _HEADER_KEYS - document.keys():
        raise FormatError(f"{name}: the header lacks {sorted(missing)}")
    if unexpected := document.keys() - _HEADER_KEYS:
        raise FormatError(f"{name}: unexpected keys {sorted(unexpected)} in the header")
    metadata = document["metadata"]
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise FormatError(f"{name}: the header's metadata must be an object of strings")
    for key, value in metadata.items():
        if not (_is_unicode(key) and _is_unicode(value)):
            raise FormatError(
                f"{name}: metadata {_preview(key)} holds a lone surrogate, which is not Unicode"
            )
    return document


def _verify_checksum(file, data_end: int, name: str) -> None:
    """Hash the file up to ``data_end`` in bounded chunks; compare with the stored checksum."""
    file.seek(0)
    checksum = hashlib.blake2b(digest_size=CHECKSUM_BYTES)
    remaining = data_end
    while remaining:
        chunk = file.read(min(remaining, _CHUNK_BYTES))
        if not chunk:
            raise FormatError(f"{name}: truncated file: it ended while being read (file changed?)")
        checksum.update(chunk)
        remaining -= len(chunk)
    if file.read(CHECKSUM_BYTES) != checksum.digest():
        raise FormatError(
            f"{name}: checksum mismatch: the file was corrupted or changed after it was saved"
        )


def _describe_start(start: bytes) -> str:
    for signature, what in _FILE_SIGNATURES.items():
        if start.startswith(signature):
            return f"it looks like {what}"
    return f"it starts with {start[: len(MAGIC)]!r}, not {MAGIC!r}"


def _parse_json(raw: bytes, name: str):
    def object_without_duplicates(pairs):
        result = {}
        for key, value in pairs:
            if key in result:
                raise FormatError(f"{name}: duplicate key {_preview(key)} in the header")
            result[key] = value
        return result

    def reject_constant(token):
        raise FormatError(f"{name}: the header contains {token}, which is not JSON")

    def finite_float(text):
        value = float(text)
        if not math.isfinite(value):
            raise FormatError(f"{name}: the header contains the out-of-range number {text}")
        return value

    def bounded_int(text):
        if len(text) > 20:  # nothing in a valid header exceeds 64 bits
            raise FormatError(f"{name}: the header contains the oversized integer {text[:20]}...")
        return int(text)

    try:
        return json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=object_without_duplicates,
            parse_constant=reject_constant,
            parse_float=finite_float,
            parse_int=bounded_int,
        )
    except FormatError:
        raise
    except RecursionError:
        raise FormatError(f"{name}: the header nests too deeply to parse") from None
    except UnicodeDecodeError as error:
        raise FormatError(f"{name}: the header is not valid UTF-8 ({error.reason})") from None
    except ValueError as error:
        raise FormatError(f"{name}: the header is not valid JSON ({error})") from None


def _is_unicode(text: str) -> bool:
    """False for a string with lone surrogates (JSON's "\\ud800"), which save refuses too."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_type(value) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    names.update({int: "an integer", float: "a number", type(None): "null"})
    return names.get(type(value), type(value).__name__)


def _preview(value) -> str:
    text = repr(value)
    return text if len(text) <= _PREVIEW_CHARS else text[:_PREVIEW_CHARS] + "..."


class _Decoder:
    """Validates the header's tree and turns it into Python values, arrays into ArrayInfo."""

    def __init__(self, name: str):
        self.name = name
        self.arrays: list[tuple[str, ArrayInfo]] = []

    def error(self, path: str, problem: str) -> FormatError:
        return FormatError(f"{self.name}: {path}: {problem}")

    def decode(self, node, path: str, depth: int):
        if isinstance(node, str):
            if not _is_unicode(node):
                raise self.error(path, f"the string {_preview(node)} holds a lone surrogate")
            return node
        if node is None or isinstance(node, (bool, float)):
            return node
        if isinstance(node, int):
            return self.checked_int(node, path, "integer")
        if isinstance(node, list):
            self.check_depth(path, depth)
            return [self.decode(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(node)]
        if len(node) != 1:
            raise self.error(
                path,
                "a JSON object in the tree must have exactly one key ('dict', 'tuple', 'float' "
                f"or 'array'), got {_preview(sorted(node))}",
            )
        ((tag, body),) = node.items()
        if tag == "dict":
            self.check_depth(path, depth)
            return self.decode_dict(body, path, depth)
        if tag == "tuple":
            self.check_depth(path, depth)
            if not isinstance(body, list):
                raise self.error(path, f"'tuple' must hold an array, got {_json_type(body)}")
            return tuple(
                self.decode(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(body)
            )
        if tag == "float":
            if not isinstance(body, str) or body not in _NON_FINITE:
                raise self.error(
                    path, f"'float' must be 'nan', 'inf' or '-inf', got {_preview(body)}"
                )
            return _NON_FINITE[body]
        if tag == "array":
            return self.decode_array(body, path)
        raise self.error(path, f"unknown tag {_preview(tag)}")

    def check_depth(self, path: str, depth: int) -> None:
        if depth >= MAX_DEPTH:
            raise self.error(path, f"nested deeper than {MAX_DEPTH} containers")

    def decode_dict(self, body, path: str, depth: int) -> dict:
        if not isinstance(body, list):
            raise self.error(
                path, f"'dict' must hold an array of [key, value] pairs, got {_json_type(body)}"
            )
        result = {}
        for i, item in enumerate(body):
            if not isinstance(item, list) or len(item) != 2:
                raise self.error(path, f"item {i} of 'dict' is not a [key, value] pair")
            key, value = item
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise self.error(
                    path, f"dict keys must be strings or integers, got {_json_type(key)}"
                )
            key_path = f"{path}[{key!r}]"
            if isinstance(key, int):
                self.checked_int(key, key_path, "key")
            elif not _is_unicode(key):
                raise self.error(path, f"the key {_preview(key)} holds a lone surrogate")
            if key in result:
                raise self.error(path, f"duplicate dict key {_preview(key)}")
            result[key] = self.decode(value, key_path, depth + 1)
        return result

    def checked_int(self, value, path: str, what: str, minimum=_INT_MIN, maximum=_INT_MAX) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(
                path, f"{what} must be an integer, got {_json_type(value)} {_preview(value)}"
            )
        if not minimum <= value <= maximum:
            raise self.error(path, f"{what} {value} is outside [{minimum}, {maximum}]")
        return value

    def decode_array(self, body, path: str) -> ArrayInfo:
        if not isinstance(body, dict):
            raise self.error(path, f"'array' must hold an object, got {_json_type(body)}")
        if set(body) != set(_ARRAY_KEYS):
            raise self.error(
                path,
                f"an array needs exactly the keys {list(_ARRAY_KEYS)}, got {_preview(list(body))}",
            )
        dtype_name = body["dtype"]
        if not isinstance(dtype_name, str) or dtype_name not in _DTYPES:
            raise self.error(
                path, f"unknown dtype {_preview(dtype_name)}; allowed: {', '.join(_DTYPES)}"
            )
        dtype = _DTYPES[dtype_name]
        shape = body["shape"]
        if not isinstance(shape, list):
            raise self.error(path, f"shape must be an array of integers, got {_json_type(shape)}")
        if len(shape) > MAX_NDIM:
            raise self.error(path, f"shape has {len(shape)} dimensions, more than {MAX_NDIM}")
        shape = tuple(self.checked_int(n, path, "dimension", 0, _MAX_ARRAY_BYTES) for n in shape)
        size = math.prod(shape)
        if math.prod(n for n in shape if n) * dtype.itemsize > _MAX_ARRAY_BYTES:
            raise self.error(path, f"shape {list(shape)} is too large for any array")
        offset = self.checked_int(body["offset"], path, "offset", 0)
        nbytes = self.checked_int(body["nbytes"], path, "nbytes", 0)
        if nbytes != size * dtype.itemsize:
            raise self.error(
                path,
                f"nbytes {nbytes} does not match shape {list(shape)} of {dtype_name} "
                f"({size * dtype.itemsize} bytes)",
            )
        if offset % ALIGNMENT:
            raise self.error(path, f"offset {offset} is not a multiple of {ALIGNMENT}")
        info = ArrayInfo(dtype.newbyteorder("="), shape, offset, nbytes)
        self.arrays.append((path, info))
        return info

    def check_layout(self, data_size: int) -> None:
        """Arrays lie inside the data section, do not overlap, and the last one ends the file."""
        end = 0
        previous = None
        for path, info in sorted(self.arrays, key=lambda item: item[1].offset):
            if info.offset + info.nbytes > data_size:
                raise FormatError(
                    f"{self.name}: truncated or corrupted file: {path} needs bytes "
                    f"{info.offset}..{info.offset + info.nbytes} of the data section, which "
                    f"has {data_size}"
                )
            if info.nbytes and previous is not None and info.offset < end:
                raise FormatError(f"{self.name}: arrays {previous} and {path} overlap")
            if info.nbytes and info.offset + info.nbytes >= end:
                previous = path
            end = max(end, info.offset + info.nbytes)
        if data_size > end:
            raise FormatError(
                f"{self.name}: {data_size - end} unexpected bytes after the last array"
            )


def _read_array(file, data_offset: int, info: ArrayInfo, path: str, name: str) -> np.ndarray:
    array = np.empty(info.shape, dtype=info.dtype.newbyteorder("<"))
    if info.nbytes:
        file.seek(data_offset + info.offset)
        buffer = array.reshape(-1).view(np.uint8).data  # a writable memoryview
        filled = 0
        while filled < info.nbytes:
            count = file.readinto(buffer[filled:])
            if not count:
                raise FormatError(f"{name}: truncated file: {path} ends early (file changed?)")
            filled += count
    if info.dtype.kind == "b" and array.view(np.uint8).max(initial=0) > 1:
        raise FormatError(f"{name}: {path}: a bool array holds bytes other than 0 and 1")
    if not array.dtype.isnative:
        array = array.astype(info.dtype)
    return array


def _substitute(tree, arrays: dict[int, np.ndarray]):
    """The tree with each ArrayInfo replaced by its array (depth already bounded by the decoder)."""
    if isinstance(tree, ArrayInfo):
        return arrays[id(tree)]
    if isinstance(tree, dict):
        return {key: _substitute(value, arrays) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_substitute(item, arrays) for item in tree]
    if isinstance(tree, tuple):
        return tuple(_substitute(item, arrays) for item in tree)
    return tree
