"""Function transforms in the style of JAX and ``torch.func``, over functions of Tensors.

Each transform accepts Tensors or arrays, and (nested) tuples, lists and dicts of them
where ``torch.func`` does. When an argument already requires grad (as inside another
transform), the result stays connected to the graph, so transforms compose:
``hessian(f) = jacfwd(jacrev(f))``, and ``vmap(grad(loss))`` gives per-sample gradients.

``torch.func``'s names are here with its return conventions: ``grad``, ``grad_and_value``,
``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``, ``vmap``; JAX's ``value_and_grad``,
``jacobian`` and ``hvp`` besides. Forward mode runs on the reverse-mode engine (``jvp`` by
two reverse passes, ``jacfwd`` as one such product per input element). ``vmap`` runs the
function once on the batch through batching rules (tinynet._batching), and falls back to a
loop over the batch for what has no rule.
"""

from __future__ import annotations

import functools
import typing

import numpy as np

from tinynet import _batching, autograd
from tinynet._batching import BatchedTensor, batched
from tinynet._random import default_generator, get_rng_state, set_rng_state
from tinynet.errors import ArgumentError, ShapeError
from tinynet.functional import stack
from tinynet.ops.movement import elements_own_storage
from tinynet.tensor import Tensor

__all__ = [
    "grad", "grad_and_value", "hessian", "hvp", "jacfwd", "jacobian", "jacrev", "jvp",
    "value_and_grad", "vjp", "vmap",
]  # fmt: skip


# -- pytrees: the nested tuples, lists and dicts torch.func takes and returns -----------------
# A spec is None for a leaf, else (container type, dict keys or None, child specs).


def _flatten(tree) -> tuple[list, object]:
    if isinstance(tree, (tuple, list)):
        keys, items = None, list(tree)
    elif isinstance(tree, dict):
        keys = list(tree)
        items = [tree[key] for key in keys]
    else:
        return [tree], None
    children = [_flatten(item) for item in items]
    leaves = [leaf for child_leaves, _ in children for leaf in child_leaves]
    return leaves, (type(tree), keys, [spec for _, spec in children])


def _unflatten(leaves, spec):
    remaining = iter(leaves)

    def build(node):
        if node is None:
            return next(remaining)
        kind, keys, children = node
        items = [build(child) for child in children]
        if keys is not None:
            return kind(zip(keys, items))
        return kind(*items) if hasattr(kind, "_fields") else kind(items)  # namedtuples

    return build(spec)


def _count(spec) -> int:
    return 1 if spec is None else sum(_count(child) for child in spec[2])


def _broadcast(dims, spec) -> list | None:
    """One entry of ``dims`` per leaf of the tree ``spec`` (an int or None covers a whole
    subtree), or None when the two structures do not match."""
    if not isinstance(dims, (tuple, list, dict)):
        return [dims] * _count(spec)
    if spec is None:
        return None
    _, keys, children = spec
    if keys is not None:
        if not isinstance(dims, dict) or set(dims) != set(keys):
            return None
        parts = [_broadcast(dims[key], child) for key, child in zip(keys, children)]
    else:
        if isinstance(dims, dict) or len(dims) != len(children):
            return None
        parts = [_broadcast(dim, child) for dim, child in zip(dims, children)]
    flat: list = []
    for part in parts:
        if part is None:
            return None
        flat += part
    return flat


def _structure(tree) -> str:
    """The shape of a pytree for error messages: every leaf shown as ``*``."""
    leaves, spec = _flatten(tree)
    return repr(_unflatten(["*"] * len(leaves), spec))


def _detached(tree):
    leaves, spec = _flatten(tree)
    return _unflatten([x.detach() if isinstance(x, Tensor) else x for x in leaves], spec)


# -- differentiation ---------------------------------------------------------------------------


def _graph_input(leaf, position: int) -> Tensor:
    data = leaf.data if isinstance(leaf, Tensor) else np.asarray(leaf)
    if data.dtype.kind != "f":
        raise TypeError(f"argument {position} must be floating to be differentiated")
    return Tensor(data, requires_grad=True)


def _batched_graph_input(leaf, position: int, size: int) -> tuple[Tensor, bool]:
    """A differentiated argument inside vmap's batched run, and whether it already was in a
    graph. An unbatched one is copied for every element first: each element's gradient
    then lands in its own row, where one shared tensor would get the batch's sum."""
    if isinstance(leaf, BatchedTensor):
        physical = leaf.physical
    else:
        tensor = leaf if isinstance(leaf, Tensor) else Tensor(np.asarray(leaf))
        physical = (
            _batching.expand(tensor, size)
            if tensor.requires_grad
            else Tensor(np.repeat(tensor.data[None], size, axis=0))
        )
    if physical.requires_grad:
        return batched(physical), True
    return batched(_graph_input(physical, position)), False


def _checked_argnums(argnums) -> tuple:
    if not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if not argnums:
        raise RuntimeError("argnums must be non-empty")
    if len(set(argnums)) != len(argnums):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return argnums


def _prepare(args, argnums):
    """Make the differentiated arguments' leaves graph inputs.

    Returns the new arguments, the flat list of inputs, ``regroup`` (a flat list of
    per-input results back into the arguments' structures: one for an int ``argnums``, a
    tuple for a tuple) and whether to build a graph (an input already required grad).
    """
    single = isinstance(argnums, int)
    numbers = (argnums,) if single else _checked_argnums(argnums)
    args = list(args)
    inputs, specs, nested = [], [], False
    for i in numbers:
        if isinstance(i, bool) or not isinstance(i, int):
            raise RuntimeError(f"argnum must be int, got: {type(i)}")
        if i >= len(args) or i < -len(args):  # PyTorch's type and message, and the fix
            raise RuntimeError(
                f"Got argnum={i}, but only {len(args)} positional inputs; argnums counts "
                f"the positional arguments from 0 (or from -1 at the end)"
            )
        leaves, spec = _flatten(args[i])
        size = _batching.running()
        for k, leaf in enumerate(leaves):
            if size is not None:  # inside vmap's batched run: per-element gradients
                leaves[k], already = _batched_graph_input(leaf, i, size)
                nested = nested or already
            elif isinstance(leaf, Tensor) and leaf.requires_grad:
                nested = True
            else:
                leaves[k] = _graph_input(leaf, i)
        args[i] = _unflatten(leaves, spec)
        inputs += leaves
        specs.append((len(leaves), spec))

    def regroup(flat):
        groups, start = [], 0
        for size, spec in specs:
            groups.append(_unflatten(flat[start : start + size], spec))
            start += size
        return groups[0] if single else tuple(groups)

    return args, inputs, regroup, nested


def _physical_cotangent(output: BatchedTensor, cotangent) -> Tensor:
    """The cotangent of a batched ``output``'s physical tensor: every element's."""
    shape = output.physical.data.shape
    if cotangent is None:
        return Tensor(np.ones(shape, output.data.dtype))
    if isinstance(cotangent, BatchedTensor):
        return cotangent.physical
    if cotangent.requires_grad:
        return cotangent.broadcast_to(shape)
    return Tensor(np.broadcast_to(cotangent.data, shape))


def _batched_gradients(outputs, inputs, cotangents, create_graph: bool, retain_graph: bool):
    """``_gradients`` inside vmap's batched run: on the physical tensors, batched results."""
    physical_outputs, physical_cotangents = [], []
    for output, cotangent in zip(outputs, cotangents):
        if isinstance(output, BatchedTensor):
            physical_outputs.append(output.physical)
            physical_cotangents.append(_physical_cotangent(output, cotangent))
        elif isinstance(cotangent, BatchedTensor):
            raise _batching.BatchedAccess("a batched cotangent for an unbatched output")
        else:
            physical_outputs.append(output)
            physical_cotangents.append(cotangent)
    physical_inputs = [t.physical if isinstance(t, BatchedTensor) else t for t in inputs]
    grads = _gradients(
        physical_outputs, physical_inputs, physical_cotangents,
        create_graph=create_graph, retain_graph=retain_graph,
    )  # fmt: skip
    return [batched(g) if isinstance(t, BatchedTensor) else g for g, t in zip(grads, inputs)]


def _gradients(outputs, inputs, cotangents, *, create_graph: bool, retain_graph: bool = True):
    """The gradients of ``sum <output, cotangent>`` for each input; zeros where unused."""
    if any(isinstance(t, BatchedTensor) for t in inputs):
        return _batched_gradients(outputs, inputs, cotangents, create_graph, retain_graph)
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    grads = [None] * len(inputs)
    if pairs:
        grads = autograd.grad(
            [o for o, _ in pairs], inputs, grad_outputs=[c for _, c in pairs],
            retain_graph=retain_graph, create_graph=create_graph, allow_unused=True,
        )  # fmt: skip
    return [g if g is not None else Tensor(np.zeros_like(t.data)) for g, t in zip(grads, inputs)]


def _split_aux(output, has_aux: bool, name: str):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(
            f"{name}(f)(*args): output of function f should be a tuple: (output, aux) "
            "if has_aux is True"
        )
    return output


def _tensor_leaves(output, name: str) -> tuple[list, object]:
    leaves, spec = _flatten(output)
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise TypeError(
                f"{name}: expected f to return a Tensor or a (nested) tuple of Tensors, got "
                f"{type(leaf).__name__} in its output"
            )
    return leaves, spec


def _scalar_output(value, name: str) -> Tensor:
    """``value`` checked to be a 0-d Tensor, as torch.func's gradient transforms want."""
    if not isinstance(value, Tensor):
        raise ArgumentError(  # PyTorch's RuntimeError, and the ValueError this raised before
            f"{name}(f)(*args): Expected f(*args) to return a Tensor, got {type(value)}; "
            "the gradient needs a scalar Tensor output"
        )
    if value.ndim != 0:
        raise ShapeError(
            f"{name}(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor with "
            f"{value.ndim} dims (shape {value.shape}); the gradient needs a scalar Tensor "
            "output: return a 0-d tensor (e.g. .sum(), or .squeeze() of a single value), or "
            "use the vjp or jacrev APIs instead"
        )
    return value


def value_and_grad(f, argnums=0, has_aux: bool = False):
    """``f`` -> a function returning ``(f(*args), gradient)``; ``f`` must return a scalar.

    JAX's order; with ``has_aux`` ``f`` returns ``(value, aux)`` and the result is
    ``((value, aux), gradient)``. An argument may be a (nested) tuple, list or dict of
    tensors: its gradient has the same structure.

    >>> import tinynet as tn
    >>> value, dx = tn.func.value_and_grad(lambda x: (x ** 2).sum())(tn.tensor([1.0, 2.0]))
    >>> value.item(), dx.tolist()
    (5.0, [2.0, 4.0])
    """

    @functools.wraps(f, updated=())
    def wrapped(*args, **kwargs):
        args, inputs, regroup, nested = _prepare(args, argnums)
        value, aux = _split_aux(f(*args, **kwargs), has_aux, "grad_and_value")
        value = _scalar_output(value, "grad_and_value")
        grads = _gradients([value], inputs, [None], create_graph=nested, retain_graph=nested)
        if not nested:
            value, aux = value.detach(), _detached(aux)
        return ((value, aux) if has_aux else value), regroup(grads)

    return wrapped


def grad_and_value(f, argnums=0, has_aux: bool = False):
    """``torch.func.grad_and_value``: ``f`` -> a function returning ``(gradient, value)``.

    With ``has_aux`` ``f`` returns ``(value, aux)`` and the result is
    ``(gradient, (value, aux))``.

    >>> import tinynet as tn
    >>> dx, value = tn.func.grad_and_value(lambda x: (x ** 2).sum())(tn.tensor([1.0, 2.0]))
    >>> dx.tolist(), value.item()
    ([2.0, 4.0], 5.0)
    """
    value_and_gradient = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f, updated=())
    def wrapped(*args, **kwargs):
        value, gradient = value_and_gradient(*args, **kwargs)
        return gradient, value

    return wrapped


def grad(f, argnums=0, has_aux: bool = False):
    """``f`` -> its gradient function (``f`` must return a scalar Tensor).

    With ``has_aux`` ``f`` returns ``(value, aux)`` and the result is ``(gradient, aux)``,
    as ``torch.func.grad``.

    >>> import tinynet as tn
    >>> tn.func.grad(lambda x: (x ** 3).sum())(tn.tensor([2.0])).tolist()
    [12.0]
    """
    value_and_gradient = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f, updated=())
    def wrapped(*args, **kwargs):
        value, gradient = value_and_gradient(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapped


def _like(value, reference: Tensor) -> Tensor:
    """``value`` as a Tensor; an array or number takes ``reference``'s dtype."""
    if isinstance(value, Tensor):
        return value
    return Tensor(np.asarray(value, reference.data.dtype))


def _cotangents(cotangents, outputs, spec) -> list[Tensor]:
    given, given_spec = _flatten(cotangents)
    if given_spec != spec:
        raise RuntimeError(
            "Expected pytree structure of cotangents to be the same as pytree structure of "
            f"outputs to the function: got {_structure(cotangents)} for outputs "
            f"{_structure(_unflatten(outputs, spec))}"
        )
    given = [_like(c, o) for c, o in zip(given, outputs)]
    for index, (c, o) in enumerate(zip(given, outputs)):
        if c.shape != o.shape:
            raise RuntimeError(
                f"Mismatch in shape: cotangent {index} has a shape of {c.shape} and output "
                f"{index} has a shape of {o.shape}"
            )
    return given


def vjp(f, *primals, has_aux: bool = False):
    """Evaluate ``f(*primals)`` and return ``(output, vjp_fn)`` (``torch.func.vjp``).

    ``vjp_fn(cotangents)``, with ``cotangents`` shaped as the output (a Tensor or a
    nested tuple of Tensors), gives a tuple of ``cotangent @ J`` for each primal. With
    ``has_aux`` ``f`` returns ``(output, aux)`` and the result is ``(output, vjp_fn, aux)``.

    >>> import tinynet as tn
    >>> out, vjp_fn = tn.func.vjp(lambda x: x * x, tn.tensor([1.0, 3.0]))
    >>> vjp_fn(tn.tensor([1.0, 10.0]))[0].tolist()
    [2.0, 60.0]
    """
    args, inputs, regroup, nested = _prepare(primals, tuple(range(len(primals))))
    output, aux = _split_aux(f(*args), has_aux, "vjp")
    outputs, spec = _tensor_leaves(output, "vjp")

    def vjp_fn(cotangents):
        given = _cotangents(cotangents, outputs, spec)
        return regroup(_gradients(outputs, inputs, given, create_graph=nested))

    if not nested:
        output, aux = _detached(output), _detached(aux)
    return (output, vjp_fn, aux) if has_aux else (output, vjp_fn)


def _tangents(primals, tangents, inputs) -> list[Tensor]:
    flat, spec = _flatten(tangents)
    if spec != _flatten(primals)[1]:
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals and tangents to have the same python "
            f"structure. Got primals with structure {_structure(primals)} and tangents with "
            f"structure {_structure(tangents)}"
        )
    flat = [_like(t, x) for t, x in zip(flat, inputs)]
    for t, x in zip(flat, inputs):
        if t.shape != x.shape:
            raise RuntimeError(
                "jvp(f, primals, tangents): Expected primals and tangents to have the same "
                f"shape, got a primal of shape {x.shape} and a tangent of shape {t.shape}"
            )
    return flat


def _zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Zeros of ``t``'s shape and dtype; batched when ``t`` is (inside vmap's batched run)."""
    if isinstance(t, BatchedTensor):
        return batched(Tensor(np.zeros_like(t.physical.data), requires_grad=requires_grad))
    return Tensor(np.zeros_like(t.data), requires_grad=requires_grad)


def _push_forward(outputs, inputs, directions, nested: bool) -> list[Tensor]:
    """``J @ directions`` for each output, as the gradient in ``u`` of ``<u @ J, directions>``."""
    dummies = [_zeros_like(o, requires_grad=True) for o in outputs]
    pulled = _gradients(outputs, inputs, dummies, create_graph=True)
    terms = [(p * d).sum() for p, d in zip(pulled, directions) if p.requires_grad]
    if not terms:  # f does not depend on the primals
        return [_zeros_like(o) for o in outputs]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return _gradients([total], dummies, [None], create_graph=nested, retain_graph=nested)


def jvp(f, primals: tuple, tangents: tuple, *, strict: bool = False, has_aux: bool = False):
    """``torch.func.jvp``: ``(f(*primals), J @ tangents)``, the Jacobian-vector product.

    Computed in reverse mode by the double-vjp trick: ``u -> u @ J`` is linear in ``u``,
    so the gradient of ``<u @ J, tangents>`` with respect to ``u`` is ``J @ tangents``
    (two reverse passes, exact, no Jacobian formed). ``primals`` and ``tangents`` are
    tuples of the same structure; with ``has_aux`` the result is ``(output, jvp_out, aux)``.

    >>> import tinynet as tn
    >>> out, tangent_out = tn.func.jvp(lambda x: x ** 3, (tn.tensor([2.0]),), (tn.tensor([1.0]),))
    >>> out.tolist(), tangent_out.tolist()
    ([8.0], [12.0])
    """
    if strict:
        raise RuntimeError("jvp(f, primals, tangents): strict=True is not implemented")
    for which, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, tuple):
            raise RuntimeError(
                f"jvp(f, primals, tangents): Expected {which} to be a tuple. E.g. it should "
                "be valid to call f(*primals)."
            )
    args, inputs, _, nested = _prepare(primals, tuple(range(len(primals))))
    directions = _tangents(primals, tangents, inputs)
    output, aux = _split_aux(f(*args), has_aux, "jvp")
    outputs, spec = _tensor_leaves(output, "jvp")
    pushed = _push_forward(outputs, inputs, directions, nested)
    if not nested:
        output, aux, pushed = _detached(output), _detached(aux), [p.detach() for p in pushed]
    result = (output, _unflatten(pushed, spec))
    return (*result, aux) if has_aux else result


def _jacobian_of(output: Tensor, inputs: list[Tensor], nested: bool) -> list[Tensor]:
    """One backward pass per element of ``output``; ``output.shape + input.shape`` each."""
    rows: list[list[Tensor]] = [[] for _ in inputs]
    size = output.data.size
    for k in range(size):
        seed = np.zeros(size, output.data.dtype)
        seed[k] = 1
        seed_tensor = Tensor(seed.reshape(output.shape))
        for row, g in zip(rows, _gradients([output], inputs, [seed_tensor], create_graph=nested)):
            row.append(g)
    jacobians = [
        (stack(row) if row else Tensor(np.zeros((0,) + t.shape, t.dtype))).reshape(
            *output.shape, *t.shape
        )
        for row, t in zip(rows, inputs)
    ]
    return jacobians if nested else [j.detach() for j in jacobians]


def _check_chunk_size(chunk_size, name: str) -> None:
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise ValueError(
            f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})"
            if name == "vmap"
            else f"{name}: `chunk_size` should be greater than 0."
        )


def jacrev(f, argnums=0, *, has_aux: bool = False, chunk_size: int | None = None):
    """``torch.func.jacrev``: ``f`` -> a function returning its Jacobian, by reverse mode.

    Each output's Jacobian has shape ``output.shape + input.shape``; ``f`` may return a
    (nested) tuple of Tensors (then the result has that structure), and ``argnums`` may be
    a tuple (then each output's entry is a tuple, one per argument). With ``has_aux`` the
    result is ``(jacobian, aux)``. ``chunk_size`` is accepted and changes nothing here.

    >>> import tinynet as tn
    >>> tn.func.jacrev(lambda x: x * x)(tn.tensor([1.0, 3.0])).tolist()
    [[2.0, 0.0], [0.0, 6.0]]
    """
    _check_chunk_size(chunk_size, "jacrev")

    @functools.wraps(f, updated=())
    def wrapped(*args, **kwargs):
        args, inputs, regroup, nested = _prepare(args, argnums)
        output, aux = _split_aux(f(*args, **kwargs), has_aux, "jacrev")
        outputs, spec = _tensor_leaves(output, "jacrev")
        result = _unflatten([regroup(_jacobian_of(o, inputs, nested)) for o in outputs], spec)
        return (result, aux if nested else _detached(aux)) if has_aux else result

    return wrapped


def jacobian(f, argnums=0):
    """``f`` -> a function returning the Jacobian, of shape ``output.shape + input.shape``
    (JAX's name for ``jacrev``).

    >>> import tinynet as tn
    >>> tn.func.jacobian(lambda x: x * x)(tn.tensor([1.0, 3.0])).tolist()
    [[2.0, 0.0], [0.0, 6.0]]
    """
    return jacrev(f, argnums)


def _forward_columns(outputs: list[Tensor], inputs: list[Tensor], nested: bool) -> list[list]:
    """Each output's Jacobian in each input, a column per input element, in forward mode.

    ``jvp``'s trick with the basis as tangents: ``pulled = u @ J`` is built once with
    ``u`` as graph inputs, and the column for input element ``k`` is the gradient of
    ``pulled[k]`` in ``u``, which is ``J @ e_k``. Returns ``[output][input]`` Tensors of
    shape ``output.shape + input.shape``.
    """
    dummies = [_zeros_like(o, requires_grad=True) for o in outputs]
    pulled = _gradients(outputs, inputs, dummies, create_graph=True)
    jacobians: list[list] = [[] for _ in outputs]
    for pulled_input, t in zip(pulled, inputs):
        columns: list[list[Tensor]] = [[] for _ in outputs]
        flat = pulled_input.reshape(-1) if pulled_input.requires_grad else None
        for k in range(t.data.size):
            pushed = (
                _gradients([flat[k]], dummies, [None], create_graph=nested)
                if flat is not None
                else [_zeros_like(o) for o in outputs]
            )
            for column, p in zip(columns, pushed):
                column.append(p)
        for jacobian, column, o in zip(jacobians, columns, outputs):
            joined = (
                stack(column, axis=-1) if column else Tensor(np.zeros(o.shape + (0,), o.data.dtype))
            )
            jacobian.append(joined.reshape(*o.shape, *t.shape))
    if not nested:
        jacobians = [[j.detach() for j in row] for row in jacobians]
    return jacobians


def jacfwd(f, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """``torch.func.jacfwd``: ``f`` -> a function returning its Jacobian, by forward mode.

    One Jacobian-vector product per input element (``jvp``'s, with the standard basis as
    tangents), so it suits functions with fewer inputs than outputs, as PyTorch's; the
    values are ``jacrev``'s, with the same structure for tuple outputs, ``argnums`` and
    ``has_aux``. ``randomness`` is ``vmap``'s: ``'error'`` raises if ``f`` draws from the
    global generator (PyTorch's jacfwd maps ``f`` over the input's basis); ``'same'`` and
    ``'different'`` let it draw (``f`` runs once).

    >>> import tinynet as tn
    >>> tn.func.jacfwd(lambda x: x.sum() * x)(tn.tensor([1.0, 2.0])).tolist()
    [[4.0, 1.0], [2.0, 5.0]]
    """
    _check_randomness(randomness)

    @functools.wraps(f, updated=())
    def wrapped(*args, **kwargs):
        guard = _RandomnessGuard(randomness)
        guard.before()
        args, inputs, regroup, nested = _prepare(args, argnums)
        output, aux = _split_aux(f(*args, **kwargs), has_aux, "jacfwd")
        guard.after()
        outputs, spec = _tensor_leaves(output, "jacfwd")
        rows = _forward_columns(outputs, inputs, nested)
        result = _unflatten([regroup(row) for row in rows], spec)
        return (result, aux if nested else _detached(aux)) if has_aux else result

    return wrapped


def hessian(f, argnums=0):
    """``f`` -> a function returning its Hessian, ``jacfwd(jacrev(f, argnums), argnums)``.

    For a scalar ``f`` of one input, of shape ``input.shape * 2``; with a tuple ``argnums``
    a tuple of tuples, ``[i][j]`` the second derivative in arguments ``i`` and ``j``.

    >>> import tinynet as tn
    >>> tn.func.hessian(lambda x: (x ** 3).sum())(tn.tensor([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f, x, v):
    """The Hessian of scalar ``f`` at ``x`` times ``v``, by double backward (no Hessian formed)."""
    x_arg = (
        x
        if isinstance(x, Tensor) and x.requires_grad
        else Tensor(x.data if isinstance(x, Tensor) else np.asarray(x), requires_grad=True)
    )
    v = v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype=x_arg.dtype))
    nested = x_arg is x
    value = _scalar_output(f(x_arg), "hvp")
    product = None
    if value.requires_grad:
        (gradient,) = autograd.grad(value, x_arg, create_graph=True)
        if gradient.requires_grad:  # False when f is linear in x: the Hessian is zero
            (product,) = autograd.grad(
                (gradient * v).sum(), x_arg, create_graph=nested, allow_unused=True
            )
    if product is None:
        product = Tensor(np.zeros_like(x_arg.data))
    return product if nested else product.detach()


# -- vmap: a loop over the batch -------------------------------------------------------------

_RANDOMNESS = ("error", "different", "same")


def _check_randomness(randomness) -> None:
    if randomness not in _RANDOMNESS:
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. "
            f"Got {randomness}"
        )


class _RandomnessGuard:
    """``vmap``'s randomness modes over the global generator (``tn.manual_seed``'s):
    ``'error'`` raises when a call drew from it, ``'same'`` rewinds it before each call,
    ``'different'`` lets each call draw anew."""

    def __init__(self, mode: str):
        self.mode = mode
        self.start = get_rng_state() if mode == "same" else {}

    def before(self) -> None:
        if self.mode == "same":
            set_rng_state(self.start)
        elif self.mode == "error":
            self.generator = default_generator()
            self.state = self.generator.bit_generator.state

    def after(self) -> None:
        if self.mode == "error" and (
            default_generator() is not self.generator
            or self.generator.bit_generator.state != self.state
        ):
            raise RuntimeError(
                "vmap: called random operation while in randomness error mode. Please either "
                "use the 'same' or 'different' randomness flags on vmap or perform the "
                "randomness operation out of vmap"
            )


def _name(func) -> str:
    return getattr(func, "__name__", repr(func))


def _in_dim(name: str, in_dims, leaf, dim) -> int | None:
    """``dim`` checked against ``leaf`` and made non-negative, as torch.func's vmap."""
    if dim is None:
        return None
    prefix = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for"
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise ValueError(
            f"{prefix} an input but in_dim must be either an integer dimension or None."
        )
    if not isinstance(leaf, (Tensor, np.ndarray)):
        raise ValueError(
            f"{prefix} an input but the input is of type {type(leaf)}. We cannot vmap over "
            "non-Tensor arguments, please use None as the respective in_dim"
        )
    ndim = leaf.ndim
    if not -ndim <= dim < ndim:
        raise ValueError(
            f"{prefix} some input, but that input is a Tensor of dimensionality {ndim} so "
            f"expected in_dim to satisfy -{ndim} <= in_dim < {ndim}."
        )
    return dim % ndim


def _batched_inputs(name: str, in_dims, args: tuple):
    """The batch size, each leaf's mapped dimension, the leaves and the arguments' spec."""
    if isinstance(in_dims, bool) or not isinstance(in_dims, (int, tuple)):
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
            f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}."
        )
    if not args:
        raise ValueError(
            f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you "
            "are trying to vmap over a function with no inputs. The latter is unsupported."
        )
    leaves, spec = _flatten(args)
    dims = _broadcast(in_dims, spec)
    if dims is None:
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
            f"structure of `inputs`. in_dims has structure {_structure(in_dims)} but inputs "
            f"has structure {_structure(args)}."
        )
    dims = [_in_dim(name, in_dims, leaf, dim) for leaf, dim in zip(leaves, dims)]
    leaves = [
        Tensor(leaf) if dim is not None and isinstance(leaf, np.ndarray) else leaf
        for leaf, dim in zip(leaves, dims)
    ]
    sizes = [leaf.shape[dim] for leaf, dim in zip(leaves, dims) if dim is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(size != sizes[0] for size in sizes):
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, "
            f"got sizes {sizes} for the mapped dimension"
        )
    if sizes[0] == 0:
        raise ValueError(
            f"vmap({name}, ...): tinynet's vmap learns the output's shape from calling "
            f"`{name}` on the batch's elements, so it cannot map over a batch of size 0"
        )
    return sizes[0], dims, leaves, spec


def _check_out_dims(name: str, out_dims) -> None:
    for dim in _flatten(out_dims)[0]:
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int)):
            raise ValueError(
                f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a "
                "python collection of ints representing where in the outputs the vmapped "
                "dimension should appear."
            )


def _same(a, b) -> bool:
    if isinstance(a, (Tensor, np.ndarray)) or isinstance(b, (Tensor, np.ndarray)):
        a_data = a.data if isinstance(a, Tensor) else np.asarray(a)
        b_data = b.data if isinstance(b, Tensor) else np.asarray(b)
        return a_data.shape == b_data.shape and bool(np.array_equal(a_data, b_data))
    return bool(a == b)


def _unbatch(name: str, parts: list, out_dim):
    """The per-element outputs ``parts`` joined along ``out_dim``."""
    first = parts[0]
    if out_dim is None:
        if all(_same(first, part) for part in parts[1:]):
            return first
        raise ValueError(
            f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None "
            "(its output differs across the batch)"
        )
    return stack(parts, axis=_output_axis(name, first, out_dim))


def _output_axis(name: str, output, out_dim: int) -> int:
    """Where a vmapped output's batch axis goes (``out_dim`` counted from 0), as PyTorch
    checks it: the output must be a Tensor and ``out_dim`` within its rank plus one."""
    if not isinstance(output, Tensor):
        raise ValueError(
            f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(output)}. "
            "Did you mean to set out_dim= to None for output?"
        )
    ndim = output.ndim + 1
    if not -ndim <= out_dim < ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but "
            f"got {out_dim})"
        )
    return out_dim % ndim


def _out_dims_of(name: str, out_dims, spec, output) -> list:
    """``out_dims`` broadcast over the leaves of an output of structure ``spec`` (a lone
    ``(d,)`` for an unstructured output is ``d``), or torch.func's ValueError."""
    if spec is None and isinstance(out_dims, tuple) and len(out_dims) == 1:
        out_dims = out_dims[0]
    dims = _broadcast(out_dims, spec)
    if dims is None:
        raise ValueError(
            f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with "
            f"the structure of `outputs`. out_dims has structure {_structure(out_dims)} but "
            f"outputs has structure {_structure(output)}."
        )
    return dims


def _batched_outputs(name: str, outputs: list, out_dims):
    flat = [_flatten(output) for output in outputs]
    spec = flat[0][1]
    if any(other != spec for _, other in flat[1:]):
        raise ValueError(f"vmap({name}, ...): `{name}` returned outputs of different structures")
    dims = _out_dims_of(name, out_dims, spec, outputs[0])
    columns = zip(*(leaves for leaves, _ in flat))
    return _unflatten([_unbatch(name, list(c), d) for c, d in zip(columns, dims)], spec)


# -- vmap's batched run: the function called once, its primitives on their batching rules --

_LOOP = object()  # _batched_call's answer when the function needs the loop


def _batched_call(func, size: int, dims: list, leaves: list, spec, kwargs):
    """``func`` called once on batched tensors (tinynet._batching), or ``_LOOP``.

    Any failure means the loop: an op without a rule, a read of a batched tensor's values
    (``.item()``, a comparison, NumPy), or an error of ``func``'s own, which the loop then
    raises for the element that causes it.
    """
    arguments = [
        leaf if dim is None else batched(_batch_first(leaf, dim)) for leaf, dim in zip(leaves, dims)
    ]
    rng_state = get_rng_state()
    try:
        with _batching.batch_of(size):
            output = func(*_unflatten(arguments, spec), **kwargs)
        for leaf in _flatten(output)[0]:
            if type(leaf) is not BatchedTensor and isinstance(leaf, Tensor):
                if isinstance(leaf.data, _batching.LogicalArray):
                    return _LOOP
    except Exception:  # noqa: BLE001  (the loop gives the answer, or the error, instead)
        set_rng_state(rng_state)
        return _LOOP
    return output


def _batch_first(leaf: Tensor, dim: int) -> Tensor:
    if dim == 0:
        return leaf
    order = list(range(leaf.ndim))
    order.insert(0, order.pop(dim))
    return leaf.permute(*order)


def _remove_batch_dim(name: str, output, out_dim, size: int, inputs: list):
    """One output of the batched run with its batch axis at ``out_dim`` (torch.func's
    ``_maybe_remove_batch_dim``): an unbatched Tensor is repeated for every element."""
    if out_dim is None:
        if isinstance(output, BatchedTensor):
            raise ValueError(
                f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is "
                "None (the output depends on a mapped input; return one that does not, or "
                "give this output an int out_dim)"
            )
        return output
    axis = _output_axis(name, output, out_dim)
    if not isinstance(output, BatchedTensor):
        return stack([output] * size, axis=axis)
    physical = output.physical
    if any(physical is leaf for leaf in inputs):  # the loop's result is a new tensor
        physical = physical.clone()
    if axis == 0:
        return physical
    order = list(range(1, output.ndim + 1))
    order.insert(axis, 0)
    return physical.permute(*order)


def _batched_outputs_of_one_call(name: str, output, out_dims, size: int, inputs: list):
    leaves, spec = _flatten(output)
    dims = _out_dims_of(name, out_dims, spec, output)
    results = [_remove_batch_dim(name, leaf, d, size, inputs) for leaf, d in zip(leaves, dims)]
    return _unflatten(results, spec)


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """``torch.func.vmap``: ``func`` mapped over a dimension of its inputs.

    ``in_dims`` gives the mapped dimension of each argument: an int for all, or a (nested)
    tuple matching the arguments, ``None`` for an argument passed whole to every call (a
    mapped NumPy array is sliced as a Tensor).
    ``out_dims`` places the batch dimension in each output (a Tensor or a nested tuple of
    them; ``None`` for an output that does not depend on the mapped inputs, which raises
    otherwise, as PyTorch's). Keyword arguments are passed whole. ``randomness``:
    ``'error'`` raises if ``func`` draws from the global generator (``tn.manual_seed``'s;
    a generator passed as ``rng=`` is not watched), ``'different'`` lets each element draw
    anew, ``'same'`` rewinds the generator so every element draws the same numbers.

    ``func`` runs once, on the whole batch, when every op it meets has a batching rule
    (tinynet._batching: elementwise ops, reductions, softmax, matmul, linear, reshapes,
    basic indexing, concatenation, convolutions; ``grad``, ``vjp``, ``jvp``, ``jacrev``,
    ``jacfwd`` inside give per-element results, so ``vmap(grad(loss), in_dims=(None, 0,
    0))(params, x, y)`` gives per-sample gradients in one pass). Otherwise (an op without a rule, a
    value read by ``.item()``, a comparison or NumPy, ``randomness`` other than
    ``'error'``) it is a loop, after that batched try: ``func`` on each slice, the results
    stacked. Both give the loop's values (a batched product or a sum over strided memory
    may round differently in the last bit), and gradients flow through both.
    ``chunk_size`` is accepted and changes nothing.

    >>> import tinynet as tn
    >>> x = tn.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> weighted = tn.func.vmap(lambda row, w: (row * w).sum(), in_dims=(0, None))
    >>> weighted(x, tn.tensor([1.0, 10.0])).tolist()
    [21.0, 43.0]
    >>> tn.func.vmap(lambda col: col * 2, in_dims=1, out_dims=1)(x).tolist()
    [[2.0, 4.0], [6.0, 8.0]]
    """
    _check_randomness(randomness)
    _check_chunk_size(chunk_size, "vmap")

    @functools.wraps(func, updated=())
    def wrapped(*args, **kwargs):
        name = _name(func)
        _check_out_dims(name, out_dims)
        batch_size, dims, leaves, spec = _batched_inputs(name, in_dims, args)
        guard = _RandomnessGuard(randomness)
        if randomness == "error" and _batching.running() is None and not autograd.trace_hook():
            # (a tn.compile recording would keep the ops of a batched try that falls back)
            guard.before()
            output = _batched_call(func, batch_size, dims, leaves, spec, kwargs)
            guard.after()  # the loop would raise on its first element too
            if output is not _LOOP:
                return _batched_outputs_of_one_call(name, output, out_dims, batch_size, leaves)
        outputs = [
            _call_on_element(func, index, dims, leaves, spec, kwargs, guard)
            for index in range(batch_size)
        ]
        return _batched_outputs(name, outputs, out_dims)

    return wrapped


def _call_on_element(func, index: int, dims, leaves, spec, kwargs, guard):
    """vmap's loop: ``func`` on element ``index`` of the mapped leaves."""
    sliced = [
        leaf if dim is None else leaf[(slice(None),) * dim + (index,)]
        for leaf, dim in zip(leaves, dims)
    ]
    guard.before()
    elements = [leaf.data for leaf, dim in zip(sliced, dims) if dim is not None]
    with elements_own_storage(elements):  # as_strided counts in each element's memory
        output = func(*_unflatten(sliced, spec), **kwargs)
    guard.after()
    return output


if not typing.TYPE_CHECKING:  # type checkers keep a misspelt tn.func.name an error

    def __getattr__(name: str):
        if name == "functional_call":
            raise AttributeError(
                "tinynet.func has no functional_call: use tinynet.nn.utils.functional_call "
                "(tinynet.func sits below nn and cannot import it); it composes with these "
                "transforms as torch.func.functional_call does"
            )
        raise AttributeError(f"module 'tinynet.func' has no attribute {name!r}")
