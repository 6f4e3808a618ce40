"""How tensors print: PyTorch's ``set_printoptions``, kept here, not in NumPy's global state.

Until it is called a tensor prints with NumPy's current print options.
"""

import sys

import numpy as np

# PyTorch's profiles: (precision, threshold, edgeitems, linewidth); "numpy" is tinynet's
# start: NumPy's own options.
_PROFILES: dict = {
    "numpy": (),
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, sys.maxsize, 3, 80),
}
_options: dict = {}  # keyword arguments of np.array2string, beyond NumPy's defaults


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set how tensors print, as ``torch.set_printoptions`` (NumPy's global options stay).

    ``profile`` (``'default'``, ``'short'``, ``'full'``) sets the first four at once; the
    others override it; ``'numpy'`` (tinynet's start) goes back to NumPy's options.
    ``sci_mode``: True always scientific, False never, None NumPy's choice.

    >>> import tinynet as tn
    >>> tn.set_printoptions(precision=2)
    >>> tn.tensor([1.23456])
    Tensor([1.23], dtype=float32)
    >>> tn.set_printoptions(profile="numpy")
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}")
        _options.clear()
        names = ("precision", "threshold", "edgeitems", "max_line_width")
        _options.update(zip(names, _PROFILES[profile]))
    given = {
        "precision": precision,
        "threshold": threshold,
        "edgeitems": edgeitems,
        "max_line_width": linewidth,
    }
    for name, value in given.items():
        if value is not None:
            _options[name] = sys.maxsize if value == float("inf") else int(value)
    if sci_mode is not None:
        _options["sci_mode"] = bool(sci_mode)


def array2string_options() -> dict:
    """The keyword arguments ``Tensor.__repr__`` passes to ``np.array2string``."""
    options = {k: v for k, v in _options.items() if k != "sci_mode"}
    sci_mode = _options.get("sci_mode")
    if sci_mode is True:
        digits = options.get("precision", np.get_printoptions()["precision"])
        options["formatter"] = {
            "float_kind": lambda v: np.format_float_scientific(v, precision=digits)
        }
    elif sci_mode is False:
        options["suppress_small"] = True
    return options
