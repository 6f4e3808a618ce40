"""``tn.cuda``: PyTorch's availability checks, answered for a library that computes on the CPU.

The first lines of most PyTorch scripts then run unchanged:

>>> import tinynet as tn
>>> device = tn.device("cuda" if tn.cuda.is_available() else "cpu")
>>> tn.zeros(2).to(device).device
'cpu'
"""


def is_available() -> bool:
    """False: tinynet has no GPU backend (``.to("cuda")`` raises in one line)."""
    return False


def device_count() -> int:
    """0: no GPU backend."""
    return 0
