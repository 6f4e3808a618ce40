"""Helpers around modules, as PyTorch's ``torch.nn.utils``: gradient clipping, parameters as
one vector, ``functional_call`` and ``rnn.pad_sequence``."""

from tinynet.nn.module import functional_call
from tinynet.nn.utils import rnn
from tinynet.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from tinynet.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = [
    "clip_grad_norm_", "clip_grad_value_", "functional_call", "parameters_to_vector", "rnn",
    "vector_to_parameters",
]  # fmt: skip
