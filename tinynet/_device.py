"""Devices: tinynet computes on the CPU only, and says so when asked for another device."""

_OTHER_DEVICES = ("cuda", "mps", "xpu", "hip", "meta", "xla", "vulkan", "ipu", "hpu", "mtia")


def is_device(value) -> bool:
    """True for a device spelling (``"cpu"``, ``"cuda:0"``, ...), False for anything else."""
    if not isinstance(value, str):
        return type(value).__name__ == "device"  # a torch.device passed along
    return value.split(":")[0] in ("cpu", *_OTHER_DEVICES)


def device(type: str, index: int | None = None) -> str:
    """PyTorch's ``torch.device``, as its string: ``device("cuda", 0)`` is ``"cuda:0"``.

    Any device may be named, as in PyTorch; moving data to one other than the CPU raises.

    >>> device("cpu"), device("cuda", 0)
    ('cpu', 'cuda:0')
    """
    name = str(type) if index is None else f"{type}:{index}"
    if not is_device(name):
        raise RuntimeError(
            f"Expected one of cpu, {', '.join(_OTHER_DEVICES)} device type at start of device "
            f"string: {name}"
        )
    return name


def check(device) -> None:
    """Accept None and the CPU; refuse any other device with one clear line.

    >>> check("cpu")
    >>> check("cuda")
    Traceback (most recent call last):
    ...
    RuntimeError: device 'cuda' is not available: tinynet computes on the CPU only; use 'cpu'
    """
    if device is None:
        return
    name = str(device)
    if name.split(":")[0] != "cpu":
        raise RuntimeError(
            f"device {name!r} is not available: tinynet computes on the CPU only; use 'cpu'"
        )
