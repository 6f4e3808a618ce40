"""``tn.compile`` (being split into modules: this commit only moves compiler.py)."""

from tinynet.compiler.recording import (
    CompiledFunction,
    ReplayKernel,
    compile,
    register_replay_kernel,
)

__all__ = ["CompiledFunction", "ReplayKernel", "compile", "register_replay_kernel"]
