"""Function transforms in the style of JAX / ``torch.func``, over functions of Tensors.

Each transform accepts Tensors or arrays. When an argument already requires grad (as
inside another transform), the result stays connected to the graph, so transforms
compose: ``hessian(f) = jacobian(grad(f))``.
"""

from __future__ import annotations

import numpy as np

from tinynet import autograd
from tinynet.tensor import Tensor


def _prepare(args, argnums):
    """Make the differentiated arguments graph inputs; report whether to build a graph."""
    single = isinstance(argnums, int)
    numbers = (argnums,) if single else tuple(argnums)
    args = list(args)
    nested = False
    for i in numbers:
        if i >= len(args) or i < -len(args):
            raise IndexError(f"argnums {i} is out of range for {len(args)} arguments")
        arg = args[i]
        if isinstance(arg, Tensor) and arg.requires_grad:
            nested = True
        else:
            data = arg.data if isinstance(arg, Tensor) else np.asarray(arg)
            arg = Tensor(data, requires_grad=True) if data.dtype.kind == "f" else Tensor(data)
            if not arg.requires_grad:
                raise TypeError(f"argument {i} must be floating to be differentiated")
            args[i] = arg
    return args, numbers, single, nested


def _scalar_output(value) -> Tensor:
    if not isinstance(value, Tensor) or value.data.size != 1:
        shape = value.shape if isinstance(value, Tensor) else type(value).__name__
        raise ValueError(f"grad needs a function with a scalar Tensor output, got {shape}")
    return value


def value_and_grad(f, argnums=0):
    """``f`` -> a function returning ``(f(*args), gradient)``; ``f`` must return a scalar.

    >>> import tinynet as tn
    >>> value, dx = tn.func.value_and_grad(lambda x: (x ** 2).sum())(tn.tensor([1.0, 2.0]))
    >>> value.item(), dx.tolist()
    (5.0, [2.0, 4.0])
    """

    def wrapped(*args):
        args, numbers, single, nested = _prepare(args, argnums)
        value = _scalar_output(f(*args))
        inputs = tuple(args[i] for i in numbers)
        if not value.requires_grad:
            grads = tuple(Tensor(np.zeros_like(t.data)) for t in inputs)
        else:
            grads = autograd.grad(value, inputs, create_graph=nested, allow_unused=True)
            grads = tuple(
                g if g is not None else Tensor(np.zeros_like(t.data)) for g, t in zip(grads, inputs)
            )
        if not nested:
            value = value.detach()
        return value, grads[0] if single else grads

    return wrapped


def grad(f, argnums=0):
    """``f`` -> its gradient function (``f`` must return a scalar Tensor).

    >>> import tinynet as tn
    >>> tn.func.grad(lambda x: (x ** 3).sum())(tn.tensor([2.0])).tolist()
    [12.0]
    """
    value_and_gradient = value_and_grad(f, argnums)

    def wrapped(*args):
        return value_and_gradient(*args)[1]

    return wrapped


def vjp(f, *primals):
    """Evaluate ``f(*primals)`` and return ``(output, vjp_fn)``; ``vjp_fn(cotangent)``
    gives a tuple of ``cotangent @ J`` for each primal."""
    args, numbers, _, nested = _prepare(primals, tuple(range(len(primals))))
    output = f(*args)
    inputs = tuple(args[i] for i in numbers)

    def vjp_fn(cotangent):
        if not output.requires_grad:
            return tuple(Tensor(np.zeros_like(t.data)) for t in inputs)
        grads = autograd.grad(
            output, inputs, grad_outputs=cotangent, retain_graph=True,
            create_graph=nested, allow_unused=True,
        )  # fmt: skip
        return tuple(
            g if g is not None else Tensor(np.zeros_like(t.data)) for g, t in zip(grads, inputs)
        )

    return (output if nested else output.detach()), vjp_fn


def jacobian(f, argnums=0):
    """``f`` -> a function returning the Jacobian, of shape ``output.shape + input.shape``.

    >>> import tinynet as tn
    >>> tn.func.jacobian(lambda x: x * x)(tn.tensor([1.0, 3.0])).tolist()
    [[2.0, 0.0], [0.0, 6.0]]
    """

    def wrapped(*args):
        args, numbers, single, nested = _prepare(args, argnums)
        output = f(*args)
        if not isinstance(output, Tensor):
            raise TypeError(
                f"jacobian needs a function returning a Tensor, got {type(output).__name__}"
            )
        inputs = tuple(args[i] for i in numbers)
        rows = [[] for _ in inputs]
        flat_size = output.data.size
        for k in range(flat_size):
            seed = np.zeros(flat_size, output.data.dtype)
            seed[k] = 1
            if output.requires_grad:
                grads = autograd.grad(
                    output, inputs, grad_outputs=Tensor(seed.reshape(output.shape)),
                    retain_graph=True, create_graph=nested, allow_unused=True,
                )  # fmt: skip
            else:
                grads = (None,) * len(inputs)
            for row, g, t in zip(rows, grads, inputs):
                row.append(g if g is not None else Tensor(np.zeros_like(t.data)))
        from tinynet.functional import stack

        jacobians = tuple(
            (stack(row) if row else Tensor(np.zeros((0,) + t.shape, t.dtype))).reshape(
                *output.shape, *t.shape
            )
            for row, t in zip(rows, inputs)
        )
        if not nested:
            jacobians = tuple(j.detach() for j in jacobians)
        return jacobians[0] if single else jacobians

    return wrapped


def hessian(f, argnums=0):
    """``f`` (scalar output) -> a function returning its Hessian, ``input.shape * 2``."""
    return jacobian(grad(f, argnums), argnums)


def hvp(f, x, v):
    """The Hessian of scalar ``f`` at ``x`` times ``v``, by double backward (no Hessian formed)."""
    x_arg = (
        x
        if isinstance(x, Tensor) and x.requires_grad
        else Tensor(x.data if isinstance(x, Tensor) else np.asarray(x), requires_grad=True)
    )
    v = v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype=x_arg.dtype))
    nested = x_arg is x
    value = _scalar_output(f(x_arg))
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
