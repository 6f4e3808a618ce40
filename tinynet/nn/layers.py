"""Layers: Linear, Bilinear, containers, Identity, Flatten, the dropouts, the norms (batch, layer,
group, instance, RMS), Embedding."""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from collections.abc import Callable, ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import Any

import numpy as np

from tinynet import _device
from tinynet._random import as_generator
from tinynet.autograd import traced_call
from tinynet.errors import ShapeError
from tinynet.nn import functional as F
from tinynet.nn import init as nn_init
from tinynet.nn.module import Module, Parameter, parameter_dtype
from tinynet.ops._args import as_tensor
from tinynet.tensor import Tensor


def check_positive_int(value, name: str, allow_zero: bool = False) -> int:
    """``value`` as an int, refusing a bool, a float or a value below 1 (below 0 with
    ``allow_zero``): a layer's sizes.

    >>> check_positive_int(3, "num_heads")
    3
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else 'positive'}, got {value}")
    return int(value)


# Weight initializers by name (the bias of a named scheme starts at zero).
_WEIGHT_INITS: dict[str, Callable] = {
    "xavier_uniform": nn_init.xavier_uniform_,
    "xavier_normal": nn_init.xavier_normal_,
    "kaiming_uniform": lambda w, rng: nn_init.kaiming_uniform_(w, nonlinearity="relu", rng=rng),
    "kaiming_normal": lambda w, rng: nn_init.kaiming_normal_(w, nonlinearity="relu", rng=rng),
}


class Linear(Module):
    """``y = x @ weight.T + bias`` with ``weight`` of shape ``(out_features, in_features)``.

    ``init=None`` is PyTorch's default (weight kaiming-uniform with ``a=sqrt(5)``, bias
    U(-1/sqrt(in_features), 1/sqrt(in_features))); a name (``'xavier_uniform'``,
    ``'xavier_normal'``, ``'kaiming_uniform'``, ``'kaiming_normal'`` — kaiming for ReLU)
    initializes the weight so and the bias to zero. ``rng``: a seed or a Generator.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> layer = nn.Linear(3, 2, rng=0)
    >>> layer(tn.ones(5, 3)).shape
    (5, 2)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype=None,
        rng=None,
        init: str | None = None,
        device=None,
    ):
        super().__init__()
        _device.check(device)
        self.in_features = check_positive_int(in_features, "in_features", allow_zero=True)
        self.out_features = check_positive_int(out_features, "out_features", allow_zero=True)
        if init is not None and init not in _WEIGHT_INITS:
            raise ValueError(f"init must be None or one of {sorted(_WEIGHT_INITS)}, got {init!r}")
        dtype = parameter_dtype(dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(rng=rng, init=init)

    def reset_parameters(self, rng=None, init: str | None = None) -> None:
        """Draw fresh parameters (see the class docstring for ``init``)."""
        generator = as_generator(rng)
        if init is None:
            nn_init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=generator)
            if self.bias is not None:
                bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
                nn_init.uniform_(self.bias, -bound, bound, rng=generator)
            return
        _WEIGHT_INITS[init](self.weight, rng=generator)
        if self.bias is not None:
            nn_init.zeros_(self.bias)

    def forward(self, input) -> Tensor:
        input = as_tensor(input)
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ShapeError(
                f"Linear: expected input with last dimension {self.in_features} (in_features), "
                f"got input of shape {input.shape}"
            )
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Identity(Module):
    """Returns its input; accepts and ignores any constructor arguments (as PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` (by default all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input) -> Tensor:
        return as_tensor(input).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Sequential(Module):
    """Modules applied in order; built from modules or an ``OrderedDict`` of named ones.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> net = nn.Sequential(nn.Linear(2, 4, rng=0), nn.ReLU(), nn.Linear(4, 1, rng=1))
    >>> len(net), type(net[-1]).__name__, net(tn.ones(3, 2)).shape
    (3, 'Linear', (3, 1))
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def _index(self, index: int) -> int:
        size = len(self._modules)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range for Sequential of length {size}")
        return index % size

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        keys = list(self._modules)
        return self._modules[keys[self._index(index)]]

    def __setitem__(self, index: int, module: Module) -> None:
        keys = list(self._modules)
        self.add_module(keys[self._index(index)], module)

    def __delitem__(self, index) -> None:
        keys = list(self._modules)
        doomed = keys[index] if isinstance(index, slice) else [keys[self._index(index)]]
        for key in doomed:
            del self._modules[key]
        # Renumber so that indices stay 0..n-1 (as PyTorch).
        items = list(self._modules.values())
        self._modules.clear()
        for position, module in enumerate(items):
            self._modules[str(position)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; return self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for module in modules:
            self.append(module)
        return self

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(Module):
    """A list of modules, registered so their parameters are found (no ``forward``).

    >>> import tinynet.nn as nn
    >>> layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    >>> len(list(layers.parameters()))
    6
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _position(self, index: int) -> int:
        size = len(self._modules)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range for ModuleList of length {size}")
        return index % size

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[str(self._position(index))]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(str(index % len(self._modules)), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def _renumber(self, modules: list) -> None:
        """Register ``modules`` as ``'0'``, ``'1'``, ... (indices stay 0..n-1, as PyTorch)."""
        self._modules.clear()
        self.extend(modules)

    def __delitem__(self, index) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[self._position(index)]
        self._renumber(modules)

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before ``index`` (as ``list.insert``)."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at ``index`` (the last by default)."""
        module = self[index]
        del self[index]
        return module

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return type(self)([*self, *other])


class _NamedRegistry(Module):
    """What ``ModuleDict`` and ``ParameterDict`` share: a dict's methods over one of the
    module's registries (``_registry``), in registration order. Not a
    ``collections.abc.Mapping``: its ``__eq__`` would make these modules unhashable."""

    _registry: str

    def __init__(self, entries: Mapping | Iterable | None = None):
        super().__init__()
        if entries is not None:
            self.update(entries)

    def _entries(self) -> dict:
        return self.__dict__[self._registry]

    def __getitem__(self, key: str) -> Any:
        return self._entries()[key]

    def __delitem__(self, key: str) -> None:
        del self._entries()[key]

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries())

    def __contains__(self, key) -> bool:
        return key in self._entries()

    def keys(self) -> KeysView[str]:
        return self._entries().keys()

    def items(self) -> ItemsView[str, Any]:
        return self._entries().items()

    def values(self) -> ValuesView[Any]:
        return self._entries().values()

    def clear(self) -> None:
        self._entries().clear()

    def pop(self, key: str) -> Any:
        """Remove ``key`` and return its entry."""
        return self._entries().pop(key)

    def update(self, entries: Mapping | Iterable) -> None:
        """Add or replace entries from a mapping or from ``(key, value)`` pairs."""
        for key, value in _pairs(entries, f"{type(self).__name__}.update"):
            self[key] = value


class ModuleDict(_NamedRegistry):
    """An ordered dict of named modules, registered under their keys (no ``forward``).

    Built from a mapping or from ``(key, module)`` pairs, as PyTorch's.

    >>> import tinynet.nn as nn
    >>> heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    >>> list(heads), list(heads.state_dict())
    (['a', 'b'], ['a.weight', 'a.bias', 'b.weight', 'b.bias'])
    """

    _registry = "_modules"

    def __init__(self, modules: Mapping | Iterable | None = None):  # PyTorch's keyword
        super().__init__(modules)

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)


def _pairs(entries: Mapping | Iterable, where: str) -> list:
    """``(key, value)`` pairs of a mapping, or of an iterable of 2-sequences (as PyTorch)."""
    if hasattr(entries, "items") and callable(entries.items):
        return list(entries.items())
    if isinstance(entries, (str, bytes)) or not isinstance(entries, Iterable):
        raise TypeError(
            f"{where} expects a mapping or an iterable of (key, value) pairs, "
            f"got {type(entries).__name__}"
        )
    pairs = []
    for index, entry in enumerate(entries):
        if isinstance(entry, (str, bytes)) or not isinstance(entry, Iterable):
            raise TypeError(f"{where}: element #{index} is not a (key, value) pair")
        entry = list(entry)
        if len(entry) != 2:
            raise ValueError(
                f"{where}: element #{index} has length {len(entry)}; 2 (key, value) is required"
            )
        pairs.append(tuple(entry))
    return pairs


def _as_parameter(value: Tensor | None, where: str) -> Parameter | None:
    """A Parameter as is; a Tensor wrapped into one sharing its array (as PyTorch)."""
    if value is None or isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value.data)
    raise TypeError(
        f"{where} holds tensors: got {type(value).__name__}; wrap arrays with nn.Parameter(...)"
    )


def _parameter_repr(name: str, param: Parameter | None) -> str:
    if param is None:
        return f"({name}): None"
    size = "x".join(str(n) for n in param.shape)
    return f"({name}): Parameter containing: [{param.dtype} of size {size}]"


class ParameterList(Module):
    """A list of parameters registered as ``'0'``, ``'1'``, ... (a Tensor becomes a Parameter).

    >>> import tinynet as tn, tinynet.nn as nn
    >>> weights = nn.ParameterList([nn.Parameter(tn.ones(2)), tn.zeros(3)])
    >>> len(weights), [n for n, _ in weights.named_parameters()], weights[1].requires_grad
    (2, ['0', '1'], True)
    """

    def __init__(self, values: Iterable | None = None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, index: int) -> int:
        size = len(self._parameters)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"ParameterList indices must be integers, got {type(index).__name__}")
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range for ParameterList of length {size}")
        return int(index) % size

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._parameters.values())[index])
        return self._parameters[str(self._index(index))]

    def __setitem__(self, index: int, param: Tensor) -> None:
        name = str(self._index(index))
        self.register_parameter(name, _as_parameter(param, "ParameterList"))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())

    def __iadd__(self, values: Iterable) -> ParameterList:
        return self.extend(values)

    def append(self, value: Tensor) -> ParameterList:
        """Add ``value`` (a Parameter, or a Tensor made one) at the end; return self."""
        param = _as_parameter(value, "ParameterList")
        self.register_parameter(str(len(self._parameters)), param)
        return self

    def extend(self, values: Iterable) -> ParameterList:
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError(
                f"ParameterList.extend expects an iterable of tensors, got {type(values).__name__}"
            )
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_parameter_repr(n, p) for n, p in self._parameters.items())


class ParameterDict(_NamedRegistry):
    """An ordered dict of parameters registered under their keys (a Tensor becomes a Parameter).

    >>> import tinynet as tn, tinynet.nn as nn
    >>> scales = nn.ParameterDict({"alpha": tn.ones(1), "beta": tn.zeros(2)})
    >>> list(scales), list(scales.state_dict()), "alpha" in scales
    (['alpha', 'beta'], ['alpha', 'beta'], True)
    """

    _registry = "_parameters"

    def __init__(self, parameters: Mapping | Iterable | None = None):  # PyTorch's keyword
        super().__init__(parameters)

    def __setitem__(self, key: str, value: Tensor) -> None:
        self.register_parameter(key, _as_parameter(value, "ParameterDict"))

    def get(self, key: str, default=None) -> Parameter | None:
        return self._parameters.get(key, default)

    def extra_repr(self) -> str:
        return "\n".join(_parameter_repr(n, p) for n, p in self._parameters.items())


class Dropout(Module):
    """Inverted dropout: in training, zero elements with probability ``p`` and scale the rest
    by ``1 / (1 - p)``; the identity in eval mode.

    ``rng`` (a seed or a Generator) seeds the module's own generator once, so successive
    calls draw different masks and a seeded module is reproducible; without it the masks
    come from the global generator (``tn.manual_seed``). ``inplace=True`` (keyword only: the
    second place is ``rng``) multiplies the input by the mask in place, as PyTorch's.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> drop = nn.Dropout(0.5, rng=3)
    >>> drop(tn.ones(4)).tolist(), drop.eval()(tn.ones(4)).tolist()
    ([0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 1.0, 1.0])
    """

    inplace = False  # also for instances pickled before the flag existed

    def __init__(self, p: float = 0.5, rng=None, *, inplace: bool = False):
        super().__init__()
        F.check_probability(p, rng, type(self).__name__)
        self.p = p
        self.inplace = inplace
        # None: draw from the global generator at each call, so tn.manual_seed reaches it.
        self.generator = None if rng is None else as_generator(rng)

    def forward(self, input) -> Tensor:
        return F.dropout(input, self.p, self.training, rng=self.generator, inplace=self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace=True" if self.inplace else f"p={self.p}"


class Dropout1d(Dropout):
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` in training; see ``F.dropout1d``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.Dropout1d(0.5, rng=3)(tn.ones(1, 4, 2))[0, :, 0].tolist()
    [0.0, 0.0, 2.0, 2.0]
    """

    def forward(self, input) -> Tensor:
        return F.dropout1d(input, self.p, self.training, rng=self.generator, inplace=self.inplace)


class Dropout2d(Dropout):
    """Zero whole channels of ``(N, C, H, W)`` in training; see ``F.dropout2d``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.Dropout2d(0.5, rng=3)(tn.ones(1, 3, 1, 2))[0, :, 0, 0].tolist()
    [0.0, 0.0, 2.0]
    """

    def forward(self, input) -> Tensor:
        return F.dropout2d(input, self.p, self.training, rng=self.generator, inplace=self.inplace)


class AlphaDropout(Dropout):
    """Dropout that keeps SELU's zero mean and unit variance, in training; see
    ``F.alpha_dropout``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.AlphaDropout(0.2, rng=0).eval()(tn.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """

    def forward(self, input) -> Tensor:
        return F.alpha_dropout(
            input, self.p, self.training, rng=self.generator, inplace=self.inplace
        )


class _BatchNorm(Module):
    """Batch normalization over axis 1 (the channels); subclasses fix the input's rank.

    Training mode normalizes with the batch statistics (biased variance) and updates
    ``running_mean`` and ``running_var`` (with the unbiased batch variance, as PyTorch); eval
    mode normalizes with the running statistics. ``momentum=None`` gives a cumulative average.
    """

    _ranks: tuple[int, ...] = ()
    _shapes = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype=None,
        device=None,
    ):
        super().__init__()
        _device.check(device)
        self.num_features = check_positive_int(num_features, "num_features")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = parameter_dtype(dtype)
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype))
            self.bias = Parameter(np.zeros(num_features, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        """Running statistics reset; weight to ones and bias to zeros (as PyTorch)."""
        self.reset_running_stats()
        if self.affine:
            nn_init.ones_(self.weight)
            nn_init.zeros_(self.bias)

    def forward(self, input) -> Tensor:
        input = as_tensor(input)
        if input.ndim not in self._ranks or input.shape[1] != self.num_features:
            shapes = self._shapes.replace("C", str(self.num_features))
            raise ShapeError(
                f"{type(self).__name__}: expected input of shape {shapes}, "
                f"got input of shape {input.shape}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            traced_call(_count, self.num_batches_tracked.data)  # repeated by compiled replays
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked.data)
        use_batch_stats = self.training or not self.track_running_stats
        return F.batch_norm(
            input,
            # Passing the running stats only when they are to be used or updated.
            self.running_mean if not self.training or self.track_running_stats else None,
            self.running_var if not self.training or self.track_running_stats else None,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


def _count(counter: np.ndarray) -> None:
    counter += 1


class BatchNorm1d(_BatchNorm):
    """Batch normalization over the channel axis of ``(N, C)`` or ``(N, C, L)`` inputs.

    Training mode normalizes with the batch statistics and updates ``running_mean`` and
    ``running_var`` (with the unbiased batch variance, as PyTorch); eval mode normalizes with
    the running statistics. ``momentum=None`` gives a cumulative average.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> bn = nn.BatchNorm1d(2)
    >>> bn(tn.tensor([[1.0, 2.0], [3.0, 6.0]])).data.round(4).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    >>> bn.running_var.tolist()
    [1.100000023841858, 1.7000000476837158]
    """

    _ranks = (2, 3)
    _shapes = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization of ``(N, C, H, W)`` inputs: statistics per channel over N, H, W.

    The same arguments, buffers and state-dict keys as ``BatchNorm1d`` (and PyTorch's).

    >>> import tinynet as tn, tinynet.nn as nn
    >>> bn = nn.BatchNorm2d(3)
    >>> bn(tn.randn(4, 3, 5, 5)).shape, sorted(bn.state_dict())
    ((4, 3, 5, 5), ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight'])
    """

    _ranks = (4,)
    _shapes = "(N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalization of ``(N, C, D, H, W)`` inputs: statistics per channel."""

    _ranks = (5,)
    _shapes = "(N, C, D, H, W)"


class LayerNorm(Module):
    """Normalize over the trailing ``normalized_shape`` axes, then scale and shift.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.LayerNorm(2)(tn.tensor([[1.0, 3.0]])).data.round(4).tolist()
    [[-1.0, 1.0]]
    """

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype=None,
        device=None,
    ):
        super().__init__()
        _device.check(device)
        self.normalized_shape = F.shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = parameter_dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class GroupNorm(Module):
    """Normalize each sample over groups of ``num_channels / num_groups`` channels (and all
    positions), then scale and shift per channel (``affine``: ``weight`` ones, ``bias``
    zeros). Training and eval behave alike: no running statistics.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> gn = nn.GroupNorm(2, 4)
    >>> gn(tn.randn(3, 4, 5)).shape, sorted(gn.state_dict())
    ((3, 4, 5), ['bias', 'weight'])
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        _device.check(device)
        self.num_groups = check_positive_int(num_groups, "num_groups")
        self.num_channels = check_positive_int(num_channels, "num_channels")
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                f"({num_groups})"
            )
        self.eps = eps
        self.affine = affine
        dtype = parameter_dtype(dtype)
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype))
            self.bias = Parameter(np.zeros(num_channels, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.affine:
            nn_init.ones_(self.weight)
            nn_init.zeros_(self.bias)

    def forward(self, input) -> Tensor:
        input = as_tensor(input)
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ShapeError(
                f"GroupNorm: expected input of shape (N, {self.num_channels}, *), "
                f"got input of shape {input.shape}"
            )
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(_BatchNorm):
    """Instance normalization: PyTorch's defaults differ from batch norm's (``affine`` and
    ``track_running_stats`` False), the input may be unbatched, and ``momentum=None`` is 0."""

    _spatial = 1

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, device)

    def forward(self, input) -> Tensor:
        input = as_tensor(input)
        spatial = self._spatial
        if input.ndim not in (spatial + 1, spatial + 2):
            raise ValueError(
                f"{type(self).__name__}: expected {spatial + 1}D or {spatial + 2}D input "
                f"(got {input.ndim}D input)"
            )
        channel_axis = input.ndim - spatial - 1
        if input.shape[channel_axis] != self.num_features:
            if self.affine:
                raise ValueError(
                    f"{type(self).__name__}: expected input's size at dim={channel_axis} to "
                    f"match num_features ({self.num_features}), got {input.shape[channel_axis]}"
                )
            warnings.warn(
                f"{type(self).__name__}: input's size at dim={channel_axis} does not match "
                "num_features, which is not used because affine=False",
                UserWarning,
                stacklevel=2,
            )
        unbatched = channel_axis == 0
        x = input.unsqueeze(0) if unbatched else input
        tracked = self.track_running_stats
        output = F.instance_norm(
            x,
            self.running_mean if tracked else None,
            self.running_var if tracked else None,
            self.weight,
            self.bias,
            self.training or not tracked,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        return output.squeeze(0) if unbatched else output


class InstanceNorm1d(_InstanceNorm):
    """Normalize each channel of each sample of ``(N, C, L)`` (or unbatched ``(C, L)``) over
    its positions. ``affine=True`` adds per-channel ``weight`` and ``bias``;
    ``track_running_stats=True`` keeps running statistics (updated in training, used in
    eval), as PyTorch.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.InstanceNorm1d(2)(tn.tensor([[[1.0, 3.0], [0.0, 4.0]]])).data.round(4).tolist()
    [[[-1.0, 1.0], [-1.0, 1.0]]]
    """


class InstanceNorm2d(_InstanceNorm):
    """Normalize each channel of each sample of ``(N, C, H, W)`` (or ``(C, H, W)``) over
    ``H`` and ``W``; the options of ``InstanceNorm1d``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> sorted(nn.InstanceNorm2d(3, affine=True, track_running_stats=True).state_dict())
    ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']
    """

    _spatial = 2


class RMSNorm(Module):
    """Divide by the root mean square over the trailing ``normalized_shape`` axes, then scale
    by ``weight`` (ones, with ``elementwise_affine``); ``eps=None``: the dtype's epsilon.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.RMSNorm(2, eps=0.0)(tn.tensor([[2.0, -2.0]])).tolist()
    [[1.0, -1.0]]
    """

    def __init__(
        self,
        normalized_shape,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        _device.check(device)
        self.normalized_shape = F.shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, parameter_dtype(dtype)))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            nn_init.ones_(self.weight)

    def forward(self, input) -> Tensor:
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class LocalResponseNorm(Module):
    """Each element of ``(N, C, *)`` divided by ``(k + alpha / size * s) ** beta``, ``s`` the
    sum of squares over ``size`` neighbouring channels; see ``F.local_response_norm``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.LocalResponseNorm(2)
    LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
    >>> nn.LocalResponseNorm(3)(tn.ones(2, 5, 4, 4)).shape
    (2, 5, 4, 4)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class Bilinear(Module):
    """``y = x1 @ weight @ x2 + bias`` per output: ``weight`` of shape ``(out_features,
    in1_features, in2_features)``, weight and bias drawn from U(-1/sqrt(in1_features),
    1/sqrt(in1_features)) as PyTorch. ``rng``: a seed or a Generator.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.Bilinear(2, 3, 4, rng=0)(tn.ones(5, 2), tn.ones(5, 3)).shape
    (5, 4)
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device=None,
        dtype=None,
        rng=None,
    ):
        super().__init__()
        _device.check(device)
        self.in1_features = check_positive_int(in1_features, "in1_features")
        self.in2_features = check_positive_int(in2_features, "in2_features")
        self.out_features = check_positive_int(out_features, "out_features")
        dtype = parameter_dtype(dtype)
        shape = (self.out_features, self.in1_features, self.in2_features)
        self.weight = Parameter(np.empty(shape, dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        generator = as_generator(rng)
        bound = 1 / math.sqrt(self.in1_features)
        nn_init.uniform_(self.weight, -bound, bound, rng=generator)
        if self.bias is not None:
            nn_init.uniform_(self.bias, -bound, bound, rng=generator)

    def forward(self, input1, input2) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class Embedding(Module):
    """A lookup table: integer indices -> rows of ``weight`` (``(num_embeddings, embedding_dim)``,
    initialized N(0, 1)). The ``padding_idx`` row starts at zero and gets no gradient.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> emb = nn.Embedding(10, 3, rng=0)
    >>> emb(tn.tensor([[1, 2], [4, 9]])).shape
    (2, 2, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        dtype=None,
        rng=None,
        device=None,
    ):
        super().__init__()
        _device.check(device)
        self.num_embeddings = check_positive_int(num_embeddings, "num_embeddings")
        self.embedding_dim = check_positive_int(embedding_dim, "embedding_dim", allow_zero=True)
        padding_idx = _padding_index(padding_idx, num_embeddings)
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), parameter_dtype(dtype)))
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        nn_init.normal_(self.weight, rng=rng)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings (``weight`` of shape ``(num_embeddings,
    embedding_dim)``, initialized N(0, 1)); see ``F.embedding_bag`` for the bags.

    Arguments and ``forward(input, offsets=None, per_sample_weights=None)`` as
    ``torch.nn.EmbeddingBag``; ``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not
    supported. ``rng`` seeds the initialization.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> bag = nn.EmbeddingBag(10, 3, mode="sum", rng=0)
    >>> bag(tn.tensor([1, 2, 4, 5, 4, 3, 2, 9]), tn.tensor([0, 4])).shape
    (2, 3)
    >>> bag
    EmbeddingBag(10, 3, mode='sum')
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight=None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device=None,
        dtype=None,
        rng=None,
    ):
        super().__init__()
        _device.check(device)
        F.check_bag_options(max_norm, scale_grad_by_freq, sparse, mode)
        self.num_embeddings = check_positive_int(num_embeddings, "num_embeddings")
        self.embedding_dim = check_positive_int(embedding_dim, "embedding_dim", allow_zero=True)
        padding_idx = _padding_index(padding_idx, num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.mode = mode
        self.include_last_offset = include_last_offset
        self.padding_idx = padding_idx
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            self.weight = Parameter(np.empty(shape, parameter_dtype(dtype)))
            self.reset_parameters(rng)
        else:
            weight = np.asarray(_weight.data if isinstance(_weight, Tensor) else _weight)
            if weight.shape != shape:
                raise ValueError(
                    f"Shape of weight {weight.shape} does not match num_embeddings and "
                    f"embedding_dim {shape}"
                )
            self.weight = Parameter(weight)

    def reset_parameters(self, rng=None) -> None:
        nn_init.normal_(self.weight, rng=rng)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input, offsets=None, per_sample_weights=None) -> Tensor:
        return F.embedding_bag(
            input, self.weight, offsets, self.max_norm, self.norm_type,
            self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
            self.include_last_offset, self.padding_idx,
        )  # fmt: skip

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text

    @classmethod
    def from_pretrained(
        cls, embeddings, freeze: bool = True, max_norm=None, norm_type: float = 2.0,
        scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
        include_last_offset: bool = False, padding_idx: int | None = None,
    ) -> EmbeddingBag:  # fmt: skip
        """An ``EmbeddingBag`` holding ``embeddings`` (2-D); ``freeze`` stops its training.

        >>> import tinynet as tn, tinynet.nn as nn
        >>> bag = nn.EmbeddingBag.from_pretrained(tn.tensor([[1.0, 2.0], [3.0, 6.0]]))
        >>> bag(tn.tensor([[1, 0]])).tolist(), bag.weight.requires_grad
        ([[2.0, 4.0]], False)
        """
        weight = np.array(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if weight.ndim != 2:
            raise ValueError(
                f"Embeddings parameter is expected to be 2-dimensional, got shape {weight.shape}"
            )
        rows, width = weight.shape
        bag = cls(
            rows, width, max_norm, norm_type, scale_grad_by_freq, mode, sparse, weight,
            include_last_offset, padding_idx,
        )  # fmt: skip
        bag.weight.requires_grad = not freeze
        return bag


def _padding_index(padding_idx: int | None, num_embeddings: int) -> int | None:
    """``padding_idx`` as a non-negative row (None stays None); PyTorch's range check."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"padding_idx must be within num_embeddings ({num_embeddings}), got {padding_idx}"
        )
    return int(padding_idx) % num_embeddings
