"""The Optimizer base class: parameter groups, per-parameter state, state dicts.

Optimizers take parameter lists (never ``tinynet.nn``) and update ``p.data`` in place with
NumPy, so no graph is ever recorded and a parameter's array keeps its identity. Updates keep
each parameter's dtype: a float32 parameter has float32 state and a float32 update.

Temporaries live in per-optimizer scratch buffers that are reused across steps and never
saved.
"""

from __future__ import annotations

import functools
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import chain, repeat
from typing import Any, cast

import numpy as np

from tinynet._grad_mode import enable_grad
from tinynet.autograd import trace_hook
from tinynet.inplace import bump_version
from tinynet.tensor import Tensor


def recorded_call(method: Callable) -> Callable:
    """Make ``method`` (an in-place update in NumPy) a single step of a ``tn.compile`` trace.

    Outside a trace it is called as is. While ``tn.compile`` records, the call is recorded
    whole and made again, with the same arguments, each time the compiled function is
    replayed: optimizers and schedulers stay live objects, so a learning rate changed
    between calls takes effect.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        hook = trace_hook()
        if hook is None:
            return method(self, *args, **kwargs)
        return hook.call(method, self, args, kwargs)

    cast(Any, wrapper)._recorded_call = True  # a mark Optimizer.__init_subclass__ reads
    return wrapper


def _marks_a_step(step: Callable) -> Callable:
    """``step`` that records ``optimizer._opt_called`` (PyTorch's name), so a scheduler can
    warn when it is stepped first. A compiled replay calls the inner step: no cost there."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._opt_called = True
        return step(self, *args, **kwargs)

    return wrapper


def axpy(alpha: float, x: np.ndarray, y: np.ndarray) -> None:
    """``y += alpha * x`` in place.

    Plain NumPy on purpose: SciPy's BLAS ``axpy`` brings a second OpenBLAS thread pool
    into the process, and two pools spinning on the same cores slowed every matrix product
    of a training step down many times over (see docs/performance.md).
    """
    if alpha == 1.0:
        y += x
    elif alpha == -1.0:
        y -= x
    else:
        y += alpha * x


def require_nonnegative(group: dict[str, Any], *names: str) -> None:
    """Refuse negative hyper-parameters with PyTorch's messages, checked in ``names`` order."""
    for name in names:
        if not 0.0 <= group[name]:
            label = {"lr": "learning rate", "eps": "epsilon value"}.get(name, f"{name} value")
            raise ValueError(f"Invalid {label}: {group[name]}")


def require_betas(group: dict[str, Any]) -> None:
    """Refuse ``betas`` that are not a pair in ``[0, 1)``, with PyTorch's messages."""
    betas = group["betas"]
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for index, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {beta}")


class Optimizer:
    """Base class of optimizers: holds parameter groups and per-parameter state.

    ``params`` is an iterable of Tensors, or of dicts (parameter groups), each with a
    ``'params'`` entry and any hyper-parameters that differ from ``defaults``.

    >>> import tinynet as tn
    >>> from tinynet.optim import SGD
    >>> w, b = tn.ones(2, requires_grad=True), tn.zeros(1, requires_grad=True)
    >>> opt = SGD([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1)
    >>> [group["lr"] for group in opt.param_groups]
    [0.1, 0.01]
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]):
        self._validate_hyperparameters(defaults)
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(ParamState)
        self.param_groups: list[dict[str, Any]] = []
        self._scratch_buffers: dict = {}
        self._flat_groups: dict = {}
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got a Tensor; wrap it in a list: [tensor]"
            )
        _refuse_sets(params)
        groups: list = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_recorded_call", False):
            cls.step = _marks_a_step(recorded_call(step))

    # -- subclasses ----------------------------------------------------------------------
    def _validate_hyperparameters(self, group: dict[str, Any]) -> None:
        """Raise ValueError (with PyTorch's message) for an invalid hyper-parameter."""

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The state of a parameter before its first step."""
        return {}

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        raise NotImplementedError

    # -- parameter groups --------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with ``'params'`` and optional hyper-parameters).

        >>> import tinynet as tn
        >>> from tinynet.optim import Adam
        >>> opt = Adam([tn.ones(2, requires_grad=True)], lr=1e-3)
        >>> opt.add_param_group({"params": [tn.zeros(3, requires_grad=True)], "lr": 1e-4})
        >>> len(opt.param_groups)
        2
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise KeyError("a parameter group needs a 'params' entry (a list of Tensors)")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        else:
            _refuse_sets(params)
            params = list(params)
        for param in params:
            _check_parameter(param)
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter group contains the same parameter more than once")
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._validate_hyperparameters(group)
        taken = {id(p) for existing in self.param_groups for p in existing["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # -- gradients ---------------------------------------------------------------------------
    @recorded_call
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients: set them to None (default) or fill them with zeros in place.

        >>> import tinynet as tn
        >>> from tinynet.optim import SGD
        >>> w = tn.ones(2, requires_grad=True)
        >>> (w * w).sum().backward()
        >>> SGD([w], lr=0.1).zero_grad(); w.grad is None
        True
        """
        for group in self.param_groups:
            if set_to_none:
                for param in group["params"]:
                    param.grad = None
                continue
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                if isinstance(grad, Tensor) and grad.grad_fn is None and grad.data.flags.writeable:
                    grad.data.fill(0)
                else:  # a gradient with a graph (create_graph=True) or a read-only array
                    param.grad = Tensor(np.zeros_like(np.asarray(grad)))

    def _params_with_grad(self, group: dict[str, Any]):
        """Yield ``(param, param.data, gradient array, state)`` for parameters with a grad.

        Multi-tensor path (PyTorch's ``foreach``): when every parameter of the group has a
        dense gradient, they share one dtype and their states agree on everything but the
        arrays, a single item is yielded instead, ``(flat group, flat params, flat gradients,
        flat state)``, so the caller's update runs once over the whole group; each state's
        arrays stay views into the flat state. The caller adds its update to the parameters
        with ``_add_to_param``, which writes it straight into their own arrays. Elementwise
        updates give the same bits either way.
        """
        flat = self._flat_group(group)
        if flat is not None:
            yield flat, flat.params, flat.grads, flat.state
            flat.scatter()
            mark_modified(group["params"])
            return
        yield from self._each_param_with_grad(group)  # bumps each updated parameter

    @staticmethod
    def _add_to_param(owner, param: np.ndarray, alpha: float, x: np.ndarray) -> None:
        """``param += alpha * x``, the end of an update; for a flat group (``owner``) into
        the parameters' own arrays, a pass and two copies fewer than updating the flat
        buffer and writing it back."""
        if type(owner) is _FlatGroup and owner.direct:
            owner.add_to_arrays(alpha, x)
        else:
            axpy(alpha, x, param)

    def _flat_group(self, group: dict[str, Any]) -> _FlatGroup | None:
        """The group's flat buffers with this step's parameters and gradients, or None.

        The flat parameters are copied in only when the update reads them (weight decay);
        otherwise ``_add_to_param`` updates the parameters' arrays directly.
        """
        params = group["params"]
        reads_params = group.get("weight_decay", 0) != 0
        cache = self._flat_groups.get(id(group))
        if cache is not None and cache.group is group and cache.unchanged(params, self.state):
            # The common case, a step like the last one: a few checks over cached lists.
            if not cache.gather(params, reads_params):
                return None
            return cache
        cache = self._build_flat_group(group)
        if cache is None or not cache.gather(params, reads_params):
            self._flat_groups.pop(id(group), None)
            return None
        self._flat_groups[id(group)] = cache
        return cache

    def _build_flat_group(self, group: dict[str, Any]) -> _FlatGroup | None:
        params = group["params"]
        if len(params) < 2 or sum(param.data.size for param in params) > _FLAT_MAX_SIZE:
            return None
        dtype = params[0].data.dtype
        for param in params:
            grad = param.grad
            if grad is None:
                return None
            array = grad.data if isinstance(grad, Tensor) else grad
            if (
                type(array) is not np.ndarray
                or array.shape != param.data.shape
                or param.data.dtype != dtype
            ):
                return None
        state_of = self.state
        states = []
        for param in params:
            state = state_of[param]
            if not state:
                state.update(self._init_state(param, group))
            states.append(state)
        return _FlatGroup.build(group, params, states)

    def _each_param_with_grad(self, group: dict[str, Any]):
        state_of = self.state
        for param in group["params"]:
            grad = param.grad
            if grad is None:
                continue
            array = param.data
            grad_array = grad.data if isinstance(grad, Tensor) else grad
            if type(grad_array) is not np.ndarray:
                grad_array = self._dense_gradient(grad_array)
            if grad_array.shape != array.shape:
                raise RuntimeError(
                    f"a parameter of shape {array.shape} has a gradient of shape {grad_array.shape}"
                )
            if grad_array.dtype != array.dtype:
                grad_array = grad_array.astype(array.dtype)
            state = state_of[param]
            if not state:
                state.update(self._init_state(param, group))
            # The caller updates ``array`` in place: a graph holding it is now stale.
            mark_modified((param,))
            yield param, array, grad_array, state

    def _dense_gradient(self, grad) -> np.ndarray:
        if hasattr(grad, "toarray") or hasattr(grad, "todense"):
            raise RuntimeError(
                f"{type(self).__name__} does not support sparse gradients; "
                "convert the gradient to a dense array"
            )
        if not isinstance(grad, np.ndarray):
            raise TypeError(f"a gradient must be a Tensor or an array, got {type(grad).__name__}")
        return grad  # an ndarray subclass

    def _scratch(self, like: np.ndarray, slot: int = 0) -> np.ndarray:
        """A reusable C-contiguous temporary with ``like``'s shape and dtype (never saved)."""
        buffers = self._scratch_buffers
        view = buffers.get((like.dtype, slot, like.shape))  # the view made last time
        if view is not None:
            return view
        key = (like.dtype, slot)
        flat = buffers.get(key)
        if flat is None or flat.size < like.size:
            flat = np.empty(like.size, like.dtype)
            # A new buffer for this dtype and slot: the views of the old one go with it.
            for old in [k for k in buffers if len(k) == 3 and k[:2] == key]:
                del buffers[old]
            buffers[key] = flat
        view = buffers[like.dtype, slot, like.shape] = flat[: like.size].reshape(like.shape)
        return view

    def _effective_grad(
        self, param: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool
    ) -> tuple[np.ndarray, float]:
        """The gradient with L2 weight decay, and the sign still to apply to it.

        PyTorch's order: ``g = -grad if maximize else grad``, then ``g + weight_decay * param``.
        Without weight decay the sign is left to the caller, which folds it into a
        coefficient instead of spending a pass on negating the gradient.
        """
        sign = -1.0 if maximize else 1.0
        if weight_decay == 0:
            return grad, sign
        decayed = self._scratch(param, slot=1)
        np.multiply(param, weight_decay, out=decayed)
        axpy(sign, grad, decayed)
        return decayed, 1.0

    def _decayed_grad(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], decoupled: bool
    ) -> tuple[np.ndarray, float]:
        """``_effective_grad`` for an optimizer with PyTorch's ``decoupled_weight_decay``
        option: when set, the parameter shrinks by ``1 - lr * weight_decay`` instead and the
        gradient gets no L2 term."""
        weight_decay = group["weight_decay"]
        if decoupled and weight_decay != 0:
            param *= 1 - group["lr"] * weight_decay
            return grad, -1.0 if group["maximize"] else 1.0
        return self._effective_grad(param, grad, weight_decay, group["maximize"])

    @staticmethod
    def _evaluate(closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # -- state dicts ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the optimizer as plain data, PyTorch's layout.

        ``{'state': {index: {name: array or number}}, 'param_groups': [{..., 'params':
        [indices]}]}``: parameters are numbered in group order; arrays are copies, so the
        snapshot does not change as training goes on.

        >>> import tinynet as tn
        >>> from tinynet.optim import SGD
        >>> SGD([tn.ones(2, requires_grad=True)], lr=0.1, momentum=0.9).state_dict()["param_groups"]
        [{'lr': 0.1, 'momentum': 0.9, 'dampening': 0, 'weight_decay': 0, 'nesterov': False, 'maximize': False, 'params': [0]}]
        """
        groups = []
        state = {}
        index = 0
        for group in self.param_groups:
            packed = {key: _plain(value) for key, value in group.items() if key != "params"}
            packed["params"] = list(range(index, index + len(group["params"])))
            groups.append(packed)
            for param in group["params"]:
                param_state = self.state.get(param)
                if param_state:
                    state[index] = {key: _plain(value) for key, value in param_state.items()}
                index += 1
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` snapshot onto this optimizer's parameters.

        Groups must match in number and size. Arrays are copied and cast to each
        parameter's dtype, so the run resumes exactly where the snapshot was taken.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(
                "an optimizer state_dict is a dict with 'state' and 'param_groups' entries"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(
            len(saved["params"]) != len(group["params"])
            for saved, group in zip(saved_groups, self.param_groups)
        ):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        param_of = {
            int(saved_index): param
            for saved_index, param in zip(
                chain.from_iterable(saved["params"] for saved in saved_groups),
                chain.from_iterable(group["params"] for group in self.param_groups),
            )
        }
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            new_group = dict(self.defaults)
            for key, value in saved.items():
                if key == "params":
                    continue
                current = group.get(key)
                if isinstance(current, tuple) and isinstance(value, list):
                    value = tuple(value)  # the file format stores tuples (betas) as lists
                new_group[key] = _plain_number(value)
            new_group["params"] = group["params"]
            self._validate_hyperparameters(new_group)
            new_groups.append(new_group)
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(ParamState)
        for key, saved_state in state_dict["state"].items():
            index = int(key)
            if index not in param_of:
                raise ValueError(
                    f"loaded state dict has state for parameter {index}, but the optimizer "
                    f"has {len(param_of)} parameters"
                )
            param = param_of[index]
            new_state[param] = ParamState(
                (name, _restore(name, value, param, index)) for name, value in saved_state.items()
            )
        self.param_groups = new_groups
        self.state = new_state
        self._flat_groups = {}

    # -- misc ------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_scratch_buffers"] = {}
        state["_flat_groups"] = {}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


#: Groups with more elements than this update one parameter at a time: there the NumPy
#: passes dominate, and the flat copies of parameters and gradients would only add memory.
_FLAT_MAX_SIZE = 1 << 18


class _Edits:
    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


#: How many edits any ParamState has seen (a flat group compares it with its last look).
_edits = _Edits()


class ParamState(dict):
    """One parameter's optimizer state (``optimizer.state[param]``): a plain dict to its
    users, that also counts every edit made to any such dict, so a flat group can tell
    with one comparison that no state changed since its last step.

    >>> state = ParamState(step=0)
    >>> state["step"] += 1; state
    {'step': 1}
    """

    __slots__ = ()

    def __setitem__(self, key, value) -> None:
        _edits.count += 1
        dict.__setitem__(self, key, value)

    def __delitem__(self, key) -> None:
        _edits.count += 1
        dict.__delitem__(self, key)

    def __ior__(self, other):  # type: ignore[misc]  # dict's own, counted
        _edits.count += 1
        return dict.__ior__(self, other)

    def update(self, *args, **kwargs) -> None:
        _edits.count += 1
        dict.update(self, *args, **kwargs)

    def setdefault(self, key, default=None):
        _edits.count += 1
        return dict.setdefault(self, key, default)

    def pop(self, *args):
        _edits.count += 1
        return dict.pop(self, *args)

    def popitem(self):
        _edits.count += 1
        return dict.popitem(self)

    def clear(self) -> None:
        _edits.count += 1
        dict.clear(self)


def mark_modified(params) -> None:
    """Record that the optimizer changed ``params``' arrays in place.

    The one place where an in-place update is announced: each parameter's version counter
    is bumped here, so a graph that saved one of these arrays before the step refuses to
    use its stale value.
    """
    for param in params:
        bump_version(param, "optimizer.step()")


class _FlatGroup:
    """One parameter group's parameters, gradients and state as slices of flat buffers.

    ``state`` maps each state name to one flat array (or the shared scalar, e.g. ``step``);
    the per-parameter state dicts hold views into those arrays, so ``state_dict`` and a
    user's look at ``optimizer.state[p]`` see the same numbers. A changed per-parameter
    state (``load_state_dict``, an edit) or a parameter given a new array is noticed by
    identity and the buffers rebuilt. The parameters keep their own arrays (PyTorch's
    contract: an update is in place): an update that does not read them (no weight decay)
    ends with ``add_to_arrays`` into those arrays; one that does (``gather(reads_params=True)``)
    works on the flat copy, which ``scatter`` writes back.
    """

    def __init__(self, group, params, states, sizes, state) -> None:
        self.group = group
        self.params = params  # the flat parameter buffer (a copy, current only if gathered)
        self.grads = np.empty_like(params)
        self.sizes = sizes
        self.offsets = np.cumsum([0, *sizes]).tolist()
        self.shapes = [param.data.shape for param in group["params"]]
        self.state = state
        self.states = states
        self._views: dict = {}
        self._params = list(group["params"])
        self._arrays = [param.data for param in self._params]
        self._param_views = self._slices(params)
        self._grad_views = self._slices(self.grads)
        self._product = np.empty_like(params)  # alpha * x for add_to_arrays
        self._product_views = self._slices(self._product)
        self._flat_views: dict[int, tuple[np.ndarray, list[np.ndarray]]] = {}
        self.direct = False
        self._distribute()
        # Only ParamState dicts count their edits: with another dict, check every entry.
        self._tracked = all(type(per_param) is ParamState for per_param in states)
        self._edits = _edits.count

    @classmethod
    def build(cls, group, params, states) -> _FlatGroup | None:
        names = states[0].keys()
        if any(s.keys() != names for s in states):
            return None
        state: dict = {}
        for name in names:
            values = [s[name] for s in states]
            if all(isinstance(v, np.ndarray) for v in values):
                if any(v.dtype != params[0].data.dtype for v in values):
                    return None
                state[name] = np.concatenate([v.reshape(-1) for v in values])
            elif any(isinstance(v, np.ndarray) for v in values) or any(
                v != values[0] for v in values
            ):
                return None
            else:
                state[name] = values[0]
        sizes = [param.data.size for param in params]
        flat = np.empty(sum(sizes), params[0].data.dtype)
        return cls(group, flat, states, sizes, state)

    def _slices(self, flat: np.ndarray) -> list[np.ndarray]:
        offsets = self.offsets
        return [
            flat[offsets[i] : offsets[i + 1]].reshape(shape) for i, shape in enumerate(self.shapes)
        ]

    def _distribute(self) -> None:
        """Give every per-parameter state its views (and scalars) of the flat state."""
        dicts, names, views = [], [], []
        scalars = []
        for name, value in self.state.items():
            if isinstance(value, np.ndarray):
                known = self._views.get(name)
                if known is None or known[0] is not value:
                    self._views[name] = (value, self._slices(value))
                for per_param, view in zip(self.states, self._views[name][1]):
                    per_param[name] = view
                    dicts.append(per_param)
                    names.append(name)
                    views.append(view)
            else:  # dict's own __setitem__: our edits need no counting (scatter notes them)
                for per_param in self.states:
                    dict.__setitem__(per_param, name, value)
                scalars.append(name)
        # What unchanged() compares: the arrays each state must still hold, the scalar names.
        self._checks = (dicts, names, views)
        self._scalars = scalars
        self._lengths = [len(per_param) for per_param in self.states]

    def _update_scalars(self) -> None:
        """After a step: new scalars (``step``) to every state; new arrays get their views."""
        views = self._views
        for name, value in self.state.items():
            if isinstance(value, np.ndarray):
                if name not in views or views[name][0] is not value:
                    self._distribute()
                    return
            else:  # dict's own __setitem__: our edits need no counting (scatter notes them)
                for per_param in self.states:
                    dict.__setitem__(per_param, name, value)

    def unchanged(self, params, state_of) -> bool:
        """True when the group, its parameters' arrays and their states are those of the
        last step, so the buffers can be used as they are."""
        if len(params) != len(self._params) or not all(map(operator.is_, params, self._params)):
            return False
        if not all(map(operator.is_, map(_data, params), self._arrays)):
            return False
        states = list(map(state_of.get, params))
        if not all(map(operator.is_, states, self.states)):
            return False
        if self._tracked and _edits.count == self._edits:
            return True  # the same state dicts, none edited since the last check
        if list(map(len, states)) != self._lengths:
            return False
        dicts, names, views = self._checks
        if not all(map(operator.is_, map(dict.get, dicts, names), views)):
            return False
        state = self.state
        count = len(states)
        for name in self._scalars:
            if operator.countOf(map(dict.get, states, repeat(name, count)), state[name]) != count:
                return False
        self._edits = _edits.count
        return True

    def gather(self, params, reads_params: bool = True) -> bool:
        """Copy the gradients in, and the parameters when the update reads them; False
        (nothing to use) unless each gradient is a dense array of its parameter's shape.

        Without the parameters (``direct``), ``self.params`` holds stale values: the update
        must end with ``add_to_arrays``, and the buffer is not written back.
        """
        ndarray = np.ndarray
        for param, view, shape in zip(params, self._grad_views, self.shapes):
            grad = param.grad
            array = grad.data if isinstance(grad, Tensor) else grad
            if type(array) is not ndarray or array.shape != shape:  # None too
                return False
            view[...] = array  # cast to the parameters' dtype, as the per-parameter path does
        self.direct = not reads_params
        if reads_params:
            # One assignment per array: cheaper than np.concatenate(..., out=) at these sizes.
            for view, array in zip(self._param_views, self._arrays):
                view[...] = array
        return True

    def add_to_arrays(self, alpha: float, x: np.ndarray) -> None:
        """Each parameter's array ``+= alpha * x[its slice]`` (``x`` flat, the group's size)."""
        if alpha == 1.0 or alpha == -1.0:
            views = self._views_of(x)
        else:
            np.multiply(x, alpha, out=self._product)  # alpha * x: the same product
            views, alpha = self._product_views, 1.0
        add = np.add if alpha == 1.0 else np.subtract
        for array, view in zip(self._arrays, views):
            add(array, view, out=array)

    def _views_of(self, x: np.ndarray) -> list[np.ndarray]:
        """Per-parameter views of a flat array; kept for the few arrays an update uses
        every step (its scratch buffer, a state, the gradients)."""
        known = self._flat_views.get(id(x))
        if known is None or known[0] is not x:
            if len(self._flat_views) >= 8:
                self._flat_views.clear()
            known = self._flat_views[id(x)] = (x, self._slices(x))
        return known[1]

    def scatter(self) -> None:
        if not self.direct:
            for array, view in zip(self._arrays, self._param_views):
                array[...] = view
        self._update_scalars()
        self._edits = _edits.count  # a new array's views (_distribute) are our edits too


_data = operator.attrgetter("data")


def _refuse_sets(params) -> None:
    if isinstance(params, (set, frozenset)):
        raise TypeError(
            "optimizer parameters need to be organized in ordered collections, but the "
            "ordering of tensors in sets will change between runs. Please use a list instead."
        )


def _check_parameter(param) -> None:
    if not isinstance(param, Tensor):
        raise TypeError(
            f"optimizer can only optimize Tensors, but one of the params is "
            f"{type(param).__module__}.{type(param).__name__}"
        )
    if not param.is_leaf:
        raise ValueError("can't optimize a non-leaf Tensor")
    array = param.data
    if isinstance(array, Tensor):  # PyTorch's habit ``p.data = tensor``: here .data is an array
        raise TypeError(
            "a parameter's .data is a Tensor, but tinynet's .data is a NumPy array: assign "
            "p.data = tensor.data, or copy the values with p.copy_(tensor) under tn.no_grad()"
        )
    if type(array) is not np.ndarray and (hasattr(array, "toarray") or hasattr(array, "todense")):
        raise TypeError("optimizers update dense parameters only; got a sparse array")
    if array.dtype.kind != "f":
        raise TypeError(
            f"optimizer can only optimize floating-point Tensors, got dtype {array.dtype}"
        )
    if not array.flags.writeable:
        raise ValueError(
            "can't optimize a parameter whose array is read-only (a broadcast view?); "
            "give it its own copy, e.g. tn.tensor(array)"
        )


def _plain_number(value):
    """NumPy scalars as Python numbers, so group entries and state dicts hold plain data."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return _plain_number(value)


def _restore(name: str, value, param: Tensor, index: int):
    if name == "step":
        return int(np.asarray(value).item())
    if isinstance(value, (np.ndarray, Tensor)):
        array = np.array(value.data if isinstance(value, Tensor) else value, dtype=param.dtype)
        if array.shape != param.shape:
            raise ValueError(
                f"loaded state '{name}' of parameter {index} has shape {array.shape}, but the "
                f"parameter has shape {param.shape}"
            )
        return array
    return _plain_number(value)
