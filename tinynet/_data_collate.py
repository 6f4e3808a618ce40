"""How a DataLoader turns samples into batches, by ``torch.utils.data``'s rules:
``default_collate`` (a list of samples to one batch) and ``default_convert`` (one sample,
when ``batch_size=None``).

>>> import numpy as np
>>> batch = default_collate([(np.zeros(2, np.float32), 0), (np.ones(2, np.float32), 1)])
>>> [(field.shape, str(field.dtype)) for field in batch]
[((2, 2), 'float32'), ((2,), 'int64')]
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence
from typing import Any

import numpy as np

from tinynet.creation import tensor
from tinynet.errors import ShapeError
from tinynet.functional import stack
from tinynet.tensor import Tensor

__all__ = ["default_collate", "default_convert"]


def _text_or_objects(array: np.ndarray) -> bool:
    """Arrays of strings, bytes or Python objects, which no tensor holds."""
    return array.dtype.kind in "USO"


def default_collate(batch: Sequence) -> Any:
    """Batch a list of samples, as PyTorch's ``default_collate``: the batch has the
    structure of one sample, each leaf the leaves of all samples joined.

    Tensors and NumPy arrays are stacked along a new first axis (a ``ShapeError``,
    a RuntimeError, names the sizes that differ); NumPy scalars keep their dtype; Python
    floats become float64, ints int64 and bools bool (ints mixed with floats: the default
    float dtype); strings and bytes stay a list. Dicts (any mapping), namedtuples and lists
    are batched key by key or field by field, keeping their type; tuples give lists, as
    PyTorch's. Other types raise a ``TypeError``: pass a ``collate_fn`` for them.

    >>> from collections import namedtuple
    >>> Pair = namedtuple("Pair", "x label")
    >>> batch = default_collate([Pair(1.5, "cat"), Pair(2.5, "dog")])
    >>> batch.x.tolist(), str(batch.x.dtype), batch.label
    ([1.5, 2.5], 'float64', ['cat', 'dog'])
    >>> default_collate([{"id": 3}, {"id": 4}])["id"].tolist()
    [3, 4]
    """
    if not len(batch):
        raise ValueError("default_collate needs at least one sample, got an empty batch")
    first = batch[0]
    if isinstance(first, Tensor):
        _check_equal_shapes([sample.shape for sample in batch])
        return stack(list(batch))
    if isinstance(first, np.ndarray) and not _text_or_objects(first):
        _check_equal_shapes([np.shape(sample) for sample in batch])
        return Tensor(np.stack(batch))
    if isinstance(first, (np.bool_, np.number)):
        return Tensor(np.asarray(batch))
    if isinstance(first, float):
        return Tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(first, int):  # bools included: torch.tensor's dtypes
        return tensor(list(batch))
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, Mapping):
        return _collate_mapping(first, batch)
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # a namedtuple
        return type(first)(*(default_collate(field) for field in _fields(batch)))
    if isinstance(first, Sequence):
        fields = [default_collate(field) for field in _fields(batch)]
        if isinstance(first, tuple):
            return fields
        return _same_type(first, fields)
    raise TypeError(
        f"default_collate cannot batch samples of type {_type_name(first)}: a batch must "
        "contain tensors, numpy arrays, numbers, strings, dicts or lists; return those from "
        "the dataset, or pass a collate_fn that batches the others"
    )


def _type_name(value) -> str:
    if isinstance(value, np.ndarray):
        return f"numpy.ndarray of dtype {value.dtype}"
    return type(value).__name__


def _check_equal_shapes(shapes: list) -> None:
    for index, shape in enumerate(shapes):
        if tuple(shape) != tuple(shapes[0]):
            raise ShapeError(
                f"default_collate: stack expects each tensor to be equal size, but got "
                f"{tuple(shapes[0])} at entry 0 and {tuple(shape)} at entry {index}; pad the "
                "samples to one shape, or pass a collate_fn that batches them"
            )


def _fields(batch: Sequence) -> list:
    """The samples' fields, transposed: field ``i`` of every sample, for each ``i``."""
    size = len(batch[0])
    for index, sample in enumerate(batch):
        if len(sample) != size:
            raise RuntimeError(
                f"default_collate: each element in list of batch should be of equal size, but "
                f"sample 0 has {size} fields and sample {index} has {len(sample)}"
            )
    return [list(field) for field in zip(*batch)]


def _collate_mapping(first: Mapping, batch: Sequence):
    values = {}
    for key in first:
        try:
            values[key] = default_collate([sample[key] for sample in batch])
        except KeyError:
            missing = next(i for i, sample in enumerate(batch) if key not in sample)
            raise KeyError(
                f"default_collate: sample {missing} has no key {key!r}, which sample 0 has; "
                "every sample needs the same keys"
            ) from None
    return _same_type(first, values)


def _same_type(first, values):
    """``values`` (a dict or list) in the container type of ``first`` where it can be."""
    try:
        if isinstance(first, (MutableMapping, MutableSequence)):
            clone = copy.copy(first)
            if isinstance(first, MutableMapping):
                clone.update(values)
            else:
                clone[:] = values
            return clone
        return type(first)(values)
    except TypeError:
        return values


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays and scalars in one sample into Tensors (their dtype kept),
    recursing into dicts, namedtuples and lists (tuples give lists, as PyTorch's); leave
    everything else as it is. The ``collate_fn`` of a DataLoader with ``batch_size=None``.

    >>> import numpy as np
    >>> sample = default_convert({"x": np.arange(3), "name": "a", "n": 1})
    >>> type(sample["x"]).__name__, sample["name"], sample["n"]
    ('Tensor', 'a', 1)
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _text_or_objects(data) else Tensor(data)
    if isinstance(data, (np.bool_, np.number)):
        return Tensor(np.asarray(data))
    if isinstance(data, Mapping):
        return _same_type(data, {key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, tuple):
        return [default_convert(value) for value in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _same_type(data, [default_convert(value) for value in data])
    return data
