"""``Module`` (parameters and submodules registered by assignment) and ``Parameter``.

As in PyTorch's ``torch/nn/modules/module.py``: ``Module.__setattr__`` sends a ``Parameter``
to ``_parameters``, a ``Module`` to ``_modules``; buffers (non-trainable state such as
BatchNorm's running statistics) live in ``_buffers``. ``state_dict`` walks all three with
dotted names.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from tinynet import _dtype
from tinynet._grad_mode import no_grad
from tinynet.autograd import RemovableHandle, trace_hook
from tinynet.nn.hooks import ModuleHooks
from tinynet.tensor import Tensor, to_arguments


class _Registry(OrderedDict):
    """A module's parameters, buffers or submodules: an ordered dict that counts its edits
    (``module_edits``), so a compiled program tells in one comparison whether any module
    was changed."""

    def __setitem__(self, key, value) -> None:
        _count_edit()
        OrderedDict.__setitem__(self, key, value)

    def __delitem__(self, key) -> None:
        _count_edit()
        OrderedDict.__delitem__(self, key)

    def pop(self, *args):
        _count_edit()
        return OrderedDict.pop(self, *args)

    def popitem(self, last: bool = True):
        _count_edit()
        return OrderedDict.popitem(self, last)

    def clear(self) -> None:
        _count_edit()
        OrderedDict.clear(self)

    def setdefault(self, key, default=None):
        _count_edit()
        return OrderedDict.setdefault(self, key, default)

    def update(self, *args, **kwargs) -> None:
        _count_edit()
        OrderedDict.update(self, *args, **kwargs)

    def move_to_end(self, key, last: bool = True) -> None:
        _count_edit()
        OrderedDict.move_to_end(self, key, last)


_edits = [0]
_REGISTRIES = ("_parameters", "_buffers", "_modules")
_MISSING = object()


def _count_edit() -> None:
    """One more module edit; a recording in this thread is told (the call edits a module,
    which a replay would not repeat). Edits made by other threads only move the count."""
    _edits[0] += 1
    recorder = trace_hook()
    if recorder is not None:
        recorder.module_edited()


def module_edits() -> int:
    """How many times any module's attributes, parameters, buffers or submodules were set,
    replaced or removed (``training`` aside: programs check the modes themselves).
    ``tn.compile`` programs compare it once per call to notice a layer swapped
    (``model.fc = nn.Linear(...)``) or a setting changed (``dropout.p = 0.2``) after they
    were recorded.

    >>> import tinynet.nn as nn
    >>> layer = nn.Linear(2, 2)
    >>> before = module_edits(); layer.weight = nn.Parameter(layer.weight.data.copy())
    >>> module_edits() > before
    True
    """
    return _edits[0]


def parameter_dtype(dtype) -> np.dtype:
    """The dtype of new parameters: ``dtype``, or the default (``tn.get_default_dtype()``);
    a layer's parameters are floating, so another kind is a ``TypeError``.

    >>> parameter_dtype(None), parameter_dtype("float64")
    (dtype('float32'), dtype('float64'))
    """
    dtype = _dtype.get_default_dtype() if dtype is None else np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"parameters must have a floating dtype, got {dtype}")
    return dtype


class Parameter(Tensor):
    """A Tensor that a ``Module`` registers as trainable; ``requires_grad=True`` by default.

    Built from a Tensor (sharing its array) or array-like data (an array keeps its dtype,
    Python data takes the default dtype).

    >>> import numpy as np, tinynet.nn as nn
    >>> w = nn.Parameter(np.zeros((2, 3)))
    >>> w.requires_grad, w.dtype
    (True, dtype('float64'))
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty(0, dtype=_dtype.get_default_dtype())
        super().__init__(data, requires_grad=requires_grad)

    def __reduce__(self):
        return (Parameter, (self.data, self._requires_grad))

    def __deepcopy__(self, memo):
        # Through the memo, so parameters that share an array still share it in the copy.
        result = Parameter(copy.deepcopy(self.data, memo), self._requires_grad)
        memo[id(self)] = result
        if self.grad is not None:
            result.grad = Tensor.wrap(copy.deepcopy(self.grad.data, memo))
        return result

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class _IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (
            f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
            f"unexpected_keys={self.unexpected_keys})"
        )


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def has_hooks(module: Module) -> bool:
    """Whether ``module`` has a forward or backward (pre-)hook.

    >>> import tinynet.nn as nn
    >>> layer = nn.ReLU(); handle = layer.register_forward_hook(lambda m, args, out: None)
    >>> has_hooks(layer), handle.remove(), has_hooks(layer)
    (True, None, False)
    """
    hooks = module._module_hooks
    return hooks is not None and bool(hooks)


class Module:
    """Base class of layers and models: subclass it, assign parts in ``__init__``, define ``forward``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(2, 4, rng=0)
    ...         self.out = nn.Linear(4, 1, rng=1)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> [name for name, _ in Net().named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", _Registry())
        object.__setattr__(self, "_buffers", _Registry())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", _Registry())

    # Pickled (and saved by skops) with plain OrderedDicts: files name no counting type.
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for name in _REGISTRIES:
            if type(state.get(name)) is _Registry:
                state[name] = OrderedDict(state[name])
        return state

    def __setstate__(self, state: dict) -> None:
        for name in _REGISTRIES:
            if type(state.get(name)) is OrderedDict:
                state[name] = _Registry(state[name])
        self.__dict__.update(state)

    # -- calling ---------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(...)")

    #: The hooks (``tinynet.nn.hooks.ModuleHooks``), made by the first registration: most
    #: modules have none.
    _module_hooks: ModuleHooks | None = None

    def __call__(self, *args, **kwargs):
        hooks = self._module_hooks
        if hooks is None:
            return self.forward(*args, **kwargs)
        return hooks.call(self, args, kwargs)

    def register_forward_pre_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward``; a value it returns (a tuple,
        or one argument) replaces the positional arguments. With ``with_kwargs``,
        ``hook(module, args, kwargs)`` may return ``(args, kwargs)``. As PyTorch's; a
        ``tn.compile``d function that calls a hooked module runs eagerly (with a warning),
        so the hook sees every call.

        >>> import tinynet as tn, tinynet.nn as nn
        >>> layer = nn.Identity()
        >>> handle = layer.register_forward_pre_hook(lambda module, args: args[0] * 2)
        >>> layer(tn.ones(2)).tolist()
        [2.0, 2.0]
        >>> handle.remove(); layer(tn.ones(2)).tolist()
        [1.0, 1.0]
        """
        return self._hooks().add("forward_pre", hook, prepend, with_kwargs)

    def register_forward_hook(
        self,
        hook: Callable,
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward``; a value it returns
        replaces the output. With ``with_kwargs``, ``hook(module, args, kwargs, output)``;
        with ``always_call``, it also runs (with output None) when ``forward`` raises. As
        PyTorch's: the habit of keeping a layer's activations.

        >>> import tinynet as tn, tinynet.nn as nn
        >>> net = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU())
        >>> seen = {}
        >>> handle = net[0].register_forward_hook(lambda m, args, out: seen.update(hidden=out))
        >>> out = net(tn.ones(1, 2)); seen["hidden"].shape
        (1, 3)
        >>> handle.remove()
        """
        return self._hooks().add("forward", hook, prepend, with_kwargs, always_call)

    def register_full_backward_pre_hook(
        self, hook: Callable, prepend: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients of the module's outputs are
        complete (None for an output no gradient reached); a tuple it returns, of the same
        length, replaces them. As PyTorch's."""
        return self._hooks().add("backward_pre", hook, prepend)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients of the module's
        positional inputs are complete, once per backward, all together (None for inputs
        that are not Tensors or need no gradient); a tuple it returns, of the same length,
        replaces ``grad_input`` (a later hook sees the replacement). As PyTorch's.

        >>> import tinynet as tn, tinynet.nn as nn
        >>> layer, seen = nn.Linear(2, 1, rng=0), []
        >>> handle = layer.register_full_backward_hook(lambda m, gi, go: seen.append(go[0].shape))
        >>> layer(tn.ones(3, 2, requires_grad=True)).sum().backward(); seen
        [(3, 1)]
        """
        return self._hooks().add("backward", hook, prepend)

    def _hooks(self) -> ModuleHooks:
        hooks = self.__dict__.get("_module_hooks")
        if hooks is None:
            hooks = ModuleHooks()
            object.__setattr__(self, "_module_hooks", hooks)
        return hooks

    # -- registration ------------------------------------------------------------------------
    def _registries(self) -> dict:
        registries = self.__dict__.get("_parameters")
        if registries is None:
            raise AttributeError(
                f"cannot assign parameters, buffers or modules before {type(self).__name__}"
                ".__init__() called super().__init__()"
            )
        return self.__dict__

    def _forget(self, name: str, keep: str) -> None:
        """Remove ``name`` from every registry but ``keep``, so one name means one thing.

        The ``keep`` registry is left alone so that re-assigning a name keeps its position.
        """
        state = self.__dict__
        state.pop(name, None)
        for registry in ("_parameters", "_modules", "_buffers"):
            if registry != keep:
                state[registry].pop(name, None)
        if keep != "_buffers":
            state["_non_persistent_buffers"].discard(name)

    def __setattr__(self, name: str, value) -> None:
        state = self.__dict__
        parameters = state.get("_parameters")
        if isinstance(value, Parameter):
            parameters = self._registries()["_parameters"]
            self._forget(name, "_parameters")
            parameters[name] = value
        elif parameters is not None and name in parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__!r} as parameter {name!r} "
                    "(nn.Parameter or None expected)"
                )
            parameters[name] = None
        elif isinstance(value, Module):
            self._registries()
            self._forget(name, "_modules")
            state["_modules"][name] = value
        elif parameters is not None and name in state["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__!r} as child module {name!r} "
                    "(nn.Module or None expected)"
                )
            state["_modules"][name] = None
        elif parameters is not None and name in state["_buffers"]:
            buffers = state["_buffers"]
            if buffers[name] is value:  # ``self.count += 1``: written in place, no edit
                return
            buffers[name] = self._as_buffer(name, value)
        else:
            if name != "training":
                _count_edit()
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails; read __dict__ directly so that unpickling
        # (which probes attributes before __dict__ is filled) cannot recurse.
        state = self.__dict__
        for registry in _REGISTRIES:
            found = state.get(registry)
            if found is not None:
                value = found.get(name, _MISSING)  # one lookup: the registries are dict subclasses
                if value is not _MISSING:
                    return value
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        state = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            found = state.get(registry)
            if found is not None and name in found:
                del found[name]
                state["_non_persistent_buffers"].discard(name)
                return
        _count_edit()
        object.__delattr__(self, name)

    def __dir__(self):
        names = set(super().__dir__())
        for registry in ("_parameters", "_buffers", "_modules"):
            names.update(self.__dict__.get(registry, ()))
        return sorted(names)

    @staticmethod
    def _as_buffer(name: str, value):
        if value is None or isinstance(value, Tensor):
            return value
        if isinstance(value, np.ndarray):
            return Tensor(value)
        raise TypeError(
            f"cannot assign {type(value).__name__!r} as buffer {name!r} (Tensor or None expected)"
        )

    def _check_new_name(self, name: str, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{kind} name must be non-empty and contain no '.', got {name!r}")
        # A plain attribute (``training``, a hyper-parameter) is not replaced (as PyTorch).
        if hasattr(type(self), name) or name in self.__dict__:
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter, or None for an absent one) under ``name``."""
        self._registries()
        self._check_new_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign {type(param).__name__!r} as parameter {name!r} "
                "(nn.Parameter or None expected)"
            )
        self._forget(name, "_parameters")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Register non-trainable state (in ``state_dict`` unless ``persistent=False``).

        >>> import tinynet as tn, tinynet.nn as nn
        >>> m = nn.Module(); m.register_buffer("count", tn.zeros(1))
        >>> list(m.state_dict())
        ['count']
        """
        self._registries()
        self._check_new_name(name, "buffer")
        tensor = self._as_buffer(name, tensor)
        self._forget(name, "_buffers")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a child under ``name`` (same as attribute assignment)."""
        self._registries()
        if not isinstance(name, str):
            raise TypeError(f"module name must be a string, got {type(name).__name__}")
        if "." in name or not name:
            raise KeyError(f"module name must be non-empty and contain no '.', got {name!r}")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._forget(name, "_modules")
        self._modules[name] = module

    register_module = add_module

    # -- traversal -----------------------------------------------------------------------------
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ):
        """Yield ``(dotted_name, module)`` for this module and every descendant, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            child_prefix = f"{prefix}.{name}" if prefix else name
            yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for the direct children, each once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, member in getattr(module, registry).items():
                if member is None:
                    continue
                if remove_duplicate:
                    if id(member) in seen:
                        continue
                    seen.add(id(member))
                yield (f"{module_prefix}.{name}" if module_prefix else name), member

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ):
        """Yield ``(dotted_name, parameter)``; a parameter shared by two modules appears once.

        >>> import tinynet.nn as nn
        >>> [n for n, _ in nn.Sequential(nn.Linear(2, 3), nn.ReLU()).named_parameters()]
        ['0.weight', '0.bias']
        """
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter of this module (and its descendants with ``recurse=True``), once."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """Yield ``(dotted_name, buffer)`` like ``named_parameters``."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> Module:
        """The descendant at dotted path ``target`` ('' is this module)."""
        module = self
        if not target:
            return module
        for part in target.split("."):
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r}")
            module = child
        return module

    # -- modes and gradients -----------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and all descendants; return self."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be a bool, got {type(mode).__name__}")
        object.__setattr__(self, "training", mode)
        # Through each child's own train(), so that subclasses overriding it are honoured.
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``): Dropout off, BatchNorm uses running stats."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` of every parameter; return self (freeze with False)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter to None (or to zeros in place)."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad = Tensor.wrap(np.zeros_like(param.data))

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every descendant (children first), then on self; return self.

        >>> import tinynet.nn as nn
        >>> net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
        >>> _ = net.apply(lambda m: nn.init.zeros_(m.bias) if isinstance(m, nn.Linear) else None)
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- dtype -----------------------------------------------------------------------------------
    def to(self, *args, dtype=None, device=None, non_blocking: bool = False) -> Module:
        """Cast floating parameters, their gradients and floating buffers in place; return self.

        Parameters keep their identity (optimizers holding them stay valid). As PyTorch's:
        ``to(dtype)``, ``to("cpu")``, ``to("cpu", dtype)``; the only device is the CPU
        (``non_blocking`` has no effect there).
        """
        dtype = to_arguments(args, dtype, device)
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating dtypes, got {dtype}")
        for module in self.modules():
            for tensor in (*module._parameters.values(), *module._buffers.values()):
                if tensor is None or tensor.data.dtype.kind != "f":
                    continue
                tensor.data = tensor.data.astype(dtype, copy=False)
                if tensor.grad is not None:
                    tensor.grad = Tensor.wrap(tensor.grad.data.astype(dtype, copy=False))
        return self

    def cpu(self) -> Module:
        """This module (tinynet only computes on the CPU)."""
        return self

    def cuda(self, device=None) -> Module:
        """Refused in one line, as ``to("cuda")``: tinynet computes on the CPU only."""
        return self.to("cuda" if device is None else f"cuda:{device}")

    def half(self) -> Module:
        """Cast floating parameters and buffers to float16 in place."""
        return self.to(np.float16)

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64 in place."""
        return self.to(np.float64)

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32 in place."""
        return self.to(np.float32)

    # -- state -----------------------------------------------------------------------------------
    def _state_items(self):
        """``(dotted_name, tensor)`` for every parameter and persistent buffer.

        As PyTorch, a shared parameter or submodule appears under each of its names.
        """
        for module_prefix, module in self.named_modules(remove_duplicate=False):
            for registry in ("_parameters", "_buffers"):
                for name, tensor in getattr(module, registry).items():
                    if tensor is None or name in module._non_persistent_buffers:
                        continue
                    yield (f"{module_prefix}.{name}" if module_prefix else name), tensor

    def state_dict(self) -> OrderedDict:
        """An ordered dict of dotted name -> NumPy array copy, for parameters and buffers.

        >>> import tinynet.nn as nn
        >>> list(nn.Linear(2, 3).state_dict())
        ['weight', 'bias']
        """
        return OrderedDict((name, tensor.data.copy()) for name, tensor in self._state_items())

    def load_state_dict(self, state_dict, strict: bool = True) -> _IncompatibleKeys:
        """Copy arrays from ``state_dict`` into the parameters and buffers, keeping their dtype.

        Nothing is loaded if an error is raised. Shape mismatches always raise; with
        ``strict=True`` missing and unexpected keys raise too, all named in one RuntimeError.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"expected a dict-like state_dict, got {type(state_dict).__name__}")
        own = OrderedDict(self._state_items())
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        errors = []
        if strict:
            if unexpected:
                keys = ", ".join(f'"{name}"' for name in unexpected)
                errors.append(f"Unexpected key(s) in state_dict: {keys}.")
            if missing:
                keys = ", ".join(f'"{name}"' for name in missing)
                errors.append(f"Missing key(s) in state_dict: {keys}.")
        arrays = {}
        for name, tensor in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != tensor.data.shape:
                errors.append(
                    f"size mismatch for {name}: copying a param with shape {array.shape} from "
                    f"checkpoint, the shape in current model is {tensor.data.shape}."
                )
                continue
            arrays[name] = array
        if errors:
            details = "\n\t".join(errors)
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t{details}"
            )
        with no_grad():
            for name, array in arrays.items():
                tensor = own[name]
                # A fresh array (not an in-place write): graphs recorded before the load keep
                # the values they saved, and a read-only input array is fine.
                tensor.data = np.array(array, dtype=tensor.data.dtype, copy=True)
        return _IncompatibleKeys(missing, unexpected)

    # -- representation --------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (override in subclasses)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(module), 2))
        if not lines:
            return f"{self._get_name()}()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        body = "\n  ".join(lines)
        return f"{self._get_name()}(\n  {body}\n)"


def _merged(parameter_and_buffer_dicts) -> dict:
    if isinstance(parameter_and_buffer_dicts, dict):
        return parameter_and_buffer_dicts
    merged: dict = {}
    for values in parameter_and_buffer_dicts:
        repeated = sorted(set(merged) & set(values))
        if repeated:
            raise ValueError(
                f"{repeated} appeared in multiple dictionaries; behavior of functional call is "
                "ambiguous"
            )
        merged.update(values)
    return merged


def _slots(module: Module, values: dict, tie_weights: bool) -> list:
    """``(owner, registry, name, value)`` for each given name, and, with ``tie_weights``, for
    every other place that holds the same Tensor as a given name."""
    slots, replaced = [], {}
    for name, value in values.items():
        owner_name, _, leaf = name.rpartition(".")
        owner = module.get_submodule(owner_name) if owner_name else module
        registry = next((r for r in ("_parameters", "_buffers") if leaf in getattr(owner, r)), None)
        if registry is None:
            raise KeyError(
                f"{module._get_name()} has no parameter {name!r} (nor a buffer of that name); "
                f"its parameters are {[n for n, _ in module.named_parameters()]}, its buffers "
                f"{[n for n, _ in module.named_buffers()]}"
            )
        slots.append((owner, registry, leaf, value))
        replaced[id(getattr(owner, registry)[leaf])] = value
    if tie_weights:
        given = {(id(owner), leaf) for owner, _, leaf, _ in slots}
        for _, owner in module.named_modules(remove_duplicate=False):
            for registry in ("_parameters", "_buffers"):
                for leaf, held in getattr(owner, registry).items():
                    if id(held) in replaced and (id(owner), leaf) not in given:
                        slots.append((owner, registry, leaf, replaced[id(held)]))
    return slots


def functional_call(
    module: Module,
    parameter_and_buffer_dicts,
    args=(),
    kwargs: dict | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
):
    """Call ``module`` with other Tensors (dotted name -> Tensor) in place of its parameters
    and buffers.

    As PyTorch's ``torch.func.functional_call``: the module computes with the given Tensors
    (which may carry a graph, so gradients flow to them), and its own are back in place
    afterwards, even if the call raises. ``parameter_and_buffer_dicts`` is a dict or a tuple
    of dicts (such as ``(params, buffers)``; a name in two raises ``ValueError``). ``args``
    is a tuple (or a single Tensor). With ``tie_weights`` a Tensor the module holds under
    two names is replaced under both; with ``strict`` every parameter and buffer must be
    given. A name the module has neither a parameter nor a buffer for raises ``KeyError``.

    >>> import tinynet as tn
    >>> from tinynet import nn
    >>> layer = nn.Linear(2, 1, rng=0)
    >>> w = tn.ones(1, 2, requires_grad=True)
    >>> out = nn.utils.functional_call(layer, {"weight": w, "bias": tn.zeros(1)}, tn.ones(1, 2))
    >>> out.item(), out.grad_fn is not None, layer.weight.data.tolist() != [[1.0, 1.0]]
    (2.0, True, True)
    """
    values = _merged(parameter_and_buffer_dicts)
    if strict:
        names = [n for n, _ in module.named_parameters()] + [n for n, _ in module.named_buffers()]
        missing = [n for n in names if n not in values]
        if missing:
            raise RuntimeError(
                f"Error(s) in reparametrizing for {module._get_name()}: Missing key(s): "
                f"{', '.join(repr(n) for n in missing)}."
            )
    args = args if isinstance(args, tuple) else (args,)
    slots = _slots(module, values, tie_weights)
    originals = [getattr(owner, registry)[leaf] for owner, registry, leaf, _ in slots]
    try:
        for owner, registry, leaf, value in slots:
            # Swapped for this call only: not an edit that compiled programs must notice
            # (one inside a compiled function would otherwise record it on every call).
            OrderedDict.__setitem__(getattr(owner, registry), leaf, value)  # via __getattr__
        return module(*args, **(kwargs or {}))
    finally:
        for (owner, registry, leaf, _), original in zip(reversed(slots), reversed(originals)):
            OrderedDict.__setitem__(getattr(owner, registry), leaf, original)
