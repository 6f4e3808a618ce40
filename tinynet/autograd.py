"""Function (one recorded op and its context) and the reverse-mode engine.

A ``Function`` subclass declares ``forward(ctx, *args)`` on NumPy arrays and
``backward(ctx, grad_output)`` in Tensor operations, so every backward is itself
differentiable: with ``create_graph=True`` it is recorded like any forward.

The engine orders the graph with Kahn's algorithm (no recursion), un-broadcasts every
input gradient to its input's shape in one place, accumulates with ``+`` and frees each
node after use unless ``retain_graph``.
"""

from __future__ import annotations

import weakref

import numpy as np

from tinynet._grad_mode import _GradMode, set_grad_enabled
from tinynet.tensor import Tensor

#: Built-in primitive ops by name, filled as ``tinynet.ops`` defines them.
PRIMITIVES: dict[str, type] = {}

_FREED = "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or tn.grad(). Specify retain_graph=True if you need to backward through the graph a second time."


class Function:
    """Base class of differentiable operations; an instance is the op's context (``ctx``).

    Subclasses define two static methods:

    - ``forward(ctx, *args)``: NumPy arrays (for Tensor arguments) and plain values in,
      one NumPy array out. Save what backward needs with ``ctx.save_for_backward``.
    - ``backward(ctx, grad_output)``: a Tensor in, one gradient per forward argument out
      (a Tensor, or None for arguments that need none), written in Tensor operations.

    >>> import tinynet as tn
    >>> class Cube(tn.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         (x,) = ctx.saved_tensors
    ...         return grad_output * 3 * x ** 2
    >>> x = tn.tensor([2.0], requires_grad=True)
    >>> Cube.apply(x).sum().backward(); x.grad
    Tensor([12.], dtype=float32)
    """

    #: Set on a class whose backward is written in raw NumPy: double backward then raises.
    once_differentiable = False
    #: Built-in primitives that need their own output in backward set this (kept by weakref).
    saves_output = False
    _saved_arrays = None
    _output_ref = None
    inputs = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("tinynet.ops.") and not cls.__name__.startswith("_"):
            PRIMITIVES[cls.__name__] = cls
        backward = cls.__dict__.get("backward")
        backward = getattr(backward, "__func__", backward)
        if getattr(backward, "_once_differentiable", False):
            cls.once_differentiable = True

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("Function subclasses must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("Function subclasses must define backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *args):
        """Run forward on the arrays of ``args`` and record the op if any input requires grad."""
        ctx = object.__new__(cls)
        out = cls.forward(ctx, *[arg.data if isinstance(arg, Tensor) else arg for arg in args])
        if type(out) is not np.ndarray:
            out = _as_output_array(out, cls)
        if _trace_hook is not None:
            _trace_hook.primitive(cls, ctx, args, out)
        if _GradMode.enabled:
            needs = tuple([isinstance(arg, Tensor) and arg._requires_grad for arg in args])
            if True in needs:
                ctx.inputs = args
                ctx.needs_input_grad = needs
                result = Tensor._wrap(out, out.dtype.kind == "f", ctx)
                if cls.saves_output or ctx._saved_arrays is not None:
                    ctx._output_ref = weakref.ref(result)
                if _anomaly_hook is not None:
                    _anomaly_hook(ctx, result)
                return result
        result = Tensor._wrap(out)
        if _anomaly_hook is not None:
            _anomaly_hook(ctx, result)
        return result

    # -- context API -----------------------------------------------------------------------
    def save_for_backward(self, *values) -> None:
        """Keep arrays (inputs, the output, or new arrays) for backward."""
        self._saved_arrays = values

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` kept, as Tensors connected to the graph where possible."""
        saved = self._saved_arrays
        if saved is None:
            if self.inputs is None and hasattr(self, "needs_input_grad"):
                raise RuntimeError(_FREED)
            return ()
        output = self.output
        result = []
        for value in saved:
            if value is None or isinstance(value, Tensor):
                result.append(value)
                continue
            match = next(
                (arg for arg in self.inputs if isinstance(arg, Tensor) and arg.data is value), None
            )
            if match is None and output is not None and output.data is value:
                match = output
            result.append(match if match is not None else Tensor(value))
        return tuple(result)

    @property
    def output(self) -> Tensor | None:
        """This op's result (None if it is no longer alive)."""
        ref = self._output_ref
        return ref() if ref is not None else None

    def mark_non_differentiable(self, *args) -> None:
        """Accepted for PyTorch compatibility; outputs of non-floating dtype never need grad."""

    def _free(self) -> None:
        self.inputs = None
        self._saved_arrays = None


def _as_output_array(out, cls) -> np.ndarray:
    if isinstance(out, Tensor):
        return out.data
    if isinstance(out, (np.generic, int, float, bool)):
        return np.asarray(out)
    raise TypeError(f"{cls.__name__}.forward must return a NumPy array, got {type(out).__name__}")


# Debugging hooks (anomaly mode, the gradient doctor); None keeps the hot path to one
# comparison. ``_anomaly_hook(ctx, result)`` sees every op's result as it is made;
# ``_backward_hook(node, grad_output, input_grads)`` every backward formula's result.
_anomaly_hook = None
_backward_hook = None


# -- tn.compile's recorder (tinynet.compiler) ---------------------------------------------------
# None outside a trace, so Function.apply pays one comparison. While ``tn.compile`` traces a
# call, it sees every primitive's NumPy forward, ``primitive(cls, ctx, args, out)``, and every
# assignment of leaf gradients, ``leaf_grads(entries, root_grads, create_graph, assign)``.
_trace_hook = None


def set_trace_hook(hook):
    """Install ``hook`` as the recorder of primitives (None removes it); return the previous."""
    global _trace_hook
    previous = _trace_hook
    _trace_hook = hook
    return previous


def trace_hook():
    """The active recorder, or None: code that updates arrays in place consults it."""
    return _trace_hook


def traced_call(function, *args):
    """``function(*args)``: NumPy work outside any op (a mask, a random draw) that
    ``tn.compile`` records and calls again, with each replay's arrays, on every replay.

    >>> import numpy as np
    >>> traced_call(np.greater, np.array([1.0, -1.0]), 0.0)
    array([ True, False])
    """
    out = function(*args)
    if _trace_hook is not None:
        _trace_hook.numpy_call(function, args, out)
    return out


def traced_check(predicate, *args) -> bool:
    """``predicate(*args)``: a Python branch on array values that ``tn.compile`` re-checks.

    Code that picks a path from the values of arrays (not just their shapes) asks here, so
    a replayed program checks the same condition on each call's arrays and runs eagerly
    when it no longer holds.

    >>> import numpy as np
    >>> traced_check(lambda values: (values > 0).all(), np.array([1.0, 2.0]))
    True
    """
    result = bool(predicate(*args))
    if _trace_hook is not None:
        _trace_hook.guard(predicate, args, result)
    return result


def _unbroadcast(grad: Tensor, like: Tensor, node) -> Tensor:
    """Reduce ``grad`` to ``like``'s shape and dtype: the one place broadcasting is undone."""
    if grad.data.shape != like.data.shape:
        grad = _ops.sum_to_shape(grad, like.data.shape)
        if grad.data.shape != like.data.shape:
            raise RuntimeError(
                f"{type(node).__name__}.backward returned a gradient of shape {grad.shape} "
                f"for an input of shape {like.shape}"
            )
    if grad.data.dtype != like.data.dtype:
        grad = _ops.cast(grad, like.data.dtype)
    return grad


def _run(roots, root_grads, retain_graph: bool, create_graph: bool, wanted=None):
    """Propagate ``root_grads`` from ``roots`` backwards through the recorded graph.

    With ``wanted`` None, gradients accumulate into the ``.grad`` of leaves. Otherwise
    ``wanted`` maps id(tensor) -> tensor and the gradients of those tensors are returned
    in a dict keyed the same way, leaving every ``.grad`` untouched.
    """
    grads: dict = {}  # node -> gradient of its output
    captured: dict = {}
    leaf_grads: dict = {}  # id(leaf) -> [leaf, gradient], given to .grad at the end
    wanted_nodes = None
    if wanted is not None:
        wanted_nodes = {t._node: key for key, t in wanted.items() if t._node is not None}

    previous_mode = _GradMode.enabled
    _GradMode.enabled = create_graph
    try:
        # Count, for every node, how many edges lead into it from the roots' side.
        pending: dict = {}
        stack = []
        for root, grad in zip(roots, root_grads):
            node = root._node
            if node is None:
                _collect_leaf(leaf_grads, root, grad)
                continue
            grads[node] = grads[node] + grad if node in grads else grad
            if node not in pending:
                pending[node] = 0
                stack.append(node)
        while stack:
            inputs = stack.pop().inputs
            if inputs is None:
                raise RuntimeError(_FREED)
            for arg in inputs:
                if isinstance(arg, Tensor) and arg._requires_grad:
                    parent = arg._node
                    if parent is None:
                        continue
                    if parent in pending:
                        pending[parent] += 1
                    else:
                        pending[parent] = 1
                        stack.append(parent)

        ready = [node for node, count in pending.items() if count == 0]
        # Nodes are freed only at the end: outputs that backward formulas read through weak
        # references stay alive while their consumers' nodes still hold them.
        done = []
        while ready:
            node = ready.pop()
            done.append(node)
            grad = grads.pop(node, None)
            if grad is None:
                input_grads = (None,) * len(node.inputs)
            else:
                if wanted_nodes is not None and node in wanted_nodes:
                    captured[wanted_nodes[node]] = grad
                if create_graph and node.once_differentiable:
                    raise RuntimeError(
                        f"{type(node).__name__} has a backward marked once_differentiable: "
                        "it cannot be differentiated again (create_graph=True)"
                    )
                input_grads = type(node).backward(node, grad)
                if type(input_grads) is not tuple:
                    input_grads = (input_grads,)
                if _backward_hook is not None:
                    _backward_hook(node, grad, input_grads)
                if len(input_grads) < len(node.inputs):
                    input_grads += (None,) * (len(node.inputs) - len(input_grads))
            for arg, needs, input_grad in zip(node.inputs, node.needs_input_grad, input_grads):
                if not needs:
                    continue
                if input_grad is not None:
                    if type(input_grad) is not Tensor:
                        input_grad = Tensor(np.asarray(input_grad))
                    if (
                        input_grad.data.shape != arg.data.shape
                        or input_grad.data.dtype != arg.data.dtype
                    ):
                        input_grad = _unbroadcast(input_grad, arg, node)
                parent = arg._node
                if parent is None:
                    if input_grad is not None:
                        _collect_leaf(leaf_grads, arg, input_grad)
                    continue
                if input_grad is not None:
                    grads[parent] = grads[parent] + input_grad if parent in grads else input_grad
                count = pending[parent] - 1
                pending[parent] = count
                if count == 0:
                    ready.append(parent)
        if not retain_graph:
            for node in done:
                node._free()
        if wanted is None:
            _assign_leaf_grads(leaf_grads.values(), root_grads, create_graph)
        else:
            for key, (_, grad) in leaf_grads.items():
                if key in wanted:
                    captured[key] = grad
    finally:
        _GradMode.enabled = previous_mode
    return captured


def _collect_leaf(leaf_grads: dict, leaf: Tensor, grad: Tensor) -> None:
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, grad]
    else:
        entry[1] = entry[1] + grad


def _assign_leaf_grads(entries, root_grads, create_graph: bool) -> None:
    if _trace_hook is not None:
        _trace_hook.leaf_grads(list(entries), root_grads, create_graph, _accumulate_leaf_grads)
    else:
        _accumulate_leaf_grads(entries, root_grads, create_graph)


def _accumulate_leaf_grads(entries, root_grads, create_graph: bool) -> None:
    """Accumulate each leaf's gradient into ``.grad`` without ever aliasing another array.

    A view (a read-only broadcast one, or into another array), or an array given to
    another leaf or passed in by the caller, is copied: an in-place edit of one ``.grad``
    (``clip_grad_norm_``, say) must never reach another.
    """
    handed_out = None
    for leaf, grad in entries:
        if create_graph:
            leaf.grad = grad if leaf.grad is None else leaf.grad + grad
            continue
        array = grad.data
        if leaf.grad is not None:
            leaf.grad = Tensor._wrap(leaf.grad.data + array)
            continue
        if handed_out is None:
            handed_out = {id(g.data) for g in root_grads}
        if array.base is not None or id(array) in handed_out:
            array = array.copy()
        handed_out.add(id(array))
        leaf.grad = Tensor._wrap(array)


def _seed_gradients(outputs, gradients):
    seeds = []
    for index, (output, gradient) in enumerate(zip(outputs, gradients)):
        if not isinstance(output, Tensor):
            raise TypeError(f"outputs must be Tensors, got {type(output).__name__}")
        if not output._requires_grad:
            raise RuntimeError(
                f"element {index} of tensors does not require grad and does not have a grad_fn"
            )
        if gradient is None:
            if output.data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; output {index} "
                    f"has shape {output.shape}: pass gradient= with that shape"
                )
            gradient = Tensor._wrap(np.ones(output.data.shape, output.data.dtype))
        else:
            if not isinstance(gradient, Tensor):
                gradient = Tensor(np.asarray(gradient, dtype=output.data.dtype))
            if gradient.data.shape != output.data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: gradient {index} has a shape of {gradient.shape} "
                    f"and output {index} has a shape of {output.shape}"
                )
            if gradient.data.dtype != output.data.dtype:
                gradient = Tensor._wrap(gradient.data.astype(output.data.dtype))
        seeds.append(gradient)
    return seeds


def _as_tuple(value):
    if isinstance(value, (Tensor, np.ndarray)) or value is None:
        return (value,)
    return tuple(value)


def backward(tensors, gradient=None, retain_graph=None, create_graph=False) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves they depend on."""
    if type(tensors) is Tensor and (gradient is None or type(gradient) is Tensor):
        outputs, gradients = (tensors,), (gradient,)
    else:
        outputs = _as_tuple(tensors)
        gradients = _as_tuple(gradient) if gradient is not None else (None,) * len(outputs)
    if len(gradients) != len(outputs):
        raise RuntimeError(f"got {len(gradients)} gradients for {len(outputs)} tensors")
    if retain_graph is None:
        retain_graph = create_graph
    _run(outputs, _seed_gradients(outputs, gradients), retain_graph, create_graph)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    allow_unused=False,
):
    """Return the gradients of ``outputs`` with respect to ``inputs`` as a tuple of Tensors.

    Leaves' ``.grad`` are not touched. With ``create_graph=True`` the results are recorded,
    so they can be differentiated again.

    >>> import tinynet as tn
    >>> x = tn.tensor([3.0], requires_grad=True)
    >>> (dx,) = tn.grad((x ** 3).sum(), x, create_graph=True)
    >>> (ddx,) = tn.grad(dx.sum(), x)
    >>> dx.item(), ddx.item()
    (27.0, 18.0)
    """
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for index, tensor in enumerate(inputs):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"inputs must be Tensors, got {type(tensor).__name__} at {index}")
        if not tensor._requires_grad:
            raise RuntimeError(f"input {index} does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    wanted = {id(t): t for t in inputs}
    captured = _run(
        outputs, _seed_gradients(outputs, grad_outputs), retain_graph, create_graph, wanted
    )
    result = []
    for index, tensor in enumerate(inputs):
        value = captured.get(id(tensor))
        if value is None and not allow_unused:
            raise RuntimeError(
                f"input {index} was not used to compute the outputs; pass allow_unused=True "
                "to get None for it"
            )
        result.append(value)
    return tuple(result)


def once_differentiable(backward_fn):
    """Decorate a Function's backward written in raw NumPy: double backward then raises."""

    def wrapper(ctx, grad_output):
        with set_grad_enabled(False):
            return backward_fn(ctx, grad_output)

    wrapper.__wrapped__ = backward_fn
    wrapper._once_differentiable = True
    return wrapper


from tinynet import ops as _ops  # noqa: E402  (the engine un-broadcasts with an op)
