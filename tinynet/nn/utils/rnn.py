"""Variable-length sequences: ``pad_sequence`` (PyTorch's ``torch.nn.utils.rnn``)."""

from __future__ import annotations

from collections.abc import Sequence

from tinynet import ops
from tinynet.functional import stack
from tinynet.ops._args import as_tensor
from tinynet.tensor import Tensor

__all__ = ["pad_sequence"]


def pad_sequence(
    sequences: Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Pad tensors of shape ``(L_i, *)`` to the longest ``L`` and stack them.

    The result is ``(L, B, *)``, or ``(B, L, *)`` with ``batch_first``; ``padding_value``
    fills the new positions, after each sequence (``padding_side='right'``) or before it
    (``'left'``). Differentiable: gradients flow back to each sequence.

    >>> import tinynet as tn
    >>> a, b = tn.tensor([1.0, 2.0, 3.0]), tn.tensor([4.0])
    >>> pad_sequence([a, b], batch_first=True).tolist()
    [[1.0, 2.0, 3.0], [4.0, 0.0, 0.0]]
    >>> pad_sequence([a, b], padding_value=-1.0, padding_side="left").tolist()
    [[1.0, -1.0], [2.0, -1.0], [3.0, 4.0]]
    """
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    sequences = [as_tensor(s) for s in sequences]
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    trailing = sequences[0].shape[1:]
    for index, sequence in enumerate(sequences):
        if sequence.ndim == 0 or sequence.shape[1:] != trailing:
            raise RuntimeError(
                f"pad_sequence: sequence {index} has shape {sequence.shape}, but every sequence "
                f"must be (length, *{trailing}) like sequence 0, {sequences[0].shape}"
            )
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for sequence in sequences:
        missing = longest - sequence.shape[0]
        widths = ((0, missing) if padding_side == "right" else (missing, 0),) + ((0, 0),) * len(
            trailing
        )
        padded.append(ops.pad(sequence, widths, value=padding_value))
    return stack(padded, axis=0 if batch_first else 1)
