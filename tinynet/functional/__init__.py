"""Composite ops, written in primitive Tensor ops, so their derivatives of every order come free.

One module per idea: ``basic`` (var, std, gelu, flatten, squeeze, unsqueeze, expand, stack),
``elementwise``, ``activations``, ``sorting`` (gathering, sorting, order statistics, scans of
extremes), ``norms`` (norms, normalize, einsum), ``distances``
(cosine_similarity, pairwise_distance), ``shape`` (shape and movement) and
``indexing`` (indexing and scatter), ``statistics`` (var_mean, cov, counts); ``_common`` holds
the helpers they share.
"""

import typing as _typing

from tinynet._lazy import lazy_attributes as _lazy_attributes
from tinynet.functional.basic import (
    expand,
    flatten,
    gelu,
    squeeze,
    stack,
    std,
    unsqueeze,
    var,
)

# The basics (Tensor methods, tn.flatten ...) are eager; the rest loads on first use
# (tinynet._lazy), under the same names.
_LAZY = {
    "tinynet.functional.activations": (
        "activations celu glu hardsigmoid logsigmoid mish relu6 selu silu softmin softsign swish"
    ),
    "tinynet.functional.distances": "distances cdist cosine_similarity pairwise_distance",
    "tinynet.functional.elementwise": (
        "elementwise allclose clamp_max clamp_min equal exp2 fmax fmin frac isclose isfinite "
        "isin isinf isnan lerp log10 log2 logical_and logical_not logical_or logical_xor "
        "nan_to_num reciprocal rsqrt square"
    ),
    "tinynet.functional.indexing": (
        "indexing argwhere index_select masked_fill masked_select nonzero one_hot scatter "
        "scatter_add scatter_reduce"
    ),
    "tinynet.functional.norms": "norms einsum norm normalize",
    "tinynet.functional.shape": (
        "shape broadcast_tensors chunk diag diagonal diff flip hstack meshgrid movedim narrow "
        "ravel repeat repeat_interleave roll select split swapaxes swapdims t tile tril triu "
        "unbind unflatten vstack"
    ),
    "tinynet.functional.sorting": (
        "sorting all any argsort bucketize cummax cummin gather kthvalue median mode msort "
        "nanmedian nanquantile quantile searchsorted sort take_along_axis take_along_dim topk "
        "unique unique_consecutive"
    ),
    "tinynet.functional.statistics": (
        "statistics aminmax bincount corrcoef count_nonzero cov histc histogram nanmean nansum "
        "std_mean var_mean"
    ),
}
if _typing.TYPE_CHECKING:  # the same names for the type checker, and no __getattr__
    from tinynet.functional import (  # noqa: F401  (the submodules, as attributes)
        activations,
        distances,
        elementwise,
        indexing,
        norms,
        shape,
        sorting,
        statistics,
    )
    from tinynet.functional.activations import (
        celu,
        glu,
        hardsigmoid,
        logsigmoid,
        mish,
        relu6,
        selu,
        silu,
        softmin,
        softsign,
        swish,
    )
    from tinynet.functional.distances import (
        cdist,
        cosine_similarity,
        pairwise_distance,
    )
    from tinynet.functional.elementwise import (
        allclose,
        clamp_max,
        clamp_min,
        equal,
        exp2,
        fmax,
        fmin,
        frac,
        isclose,
        isfinite,
        isin,
        isinf,
        isnan,
        lerp,
        log2,
        log10,
        logical_and,
        logical_not,
        logical_or,
        logical_xor,
        nan_to_num,
        reciprocal,
        rsqrt,
        square,
    )
    from tinynet.functional.indexing import (
        argwhere,
        index_select,
        masked_fill,
        masked_select,
        nonzero,
        one_hot,
        scatter,
        scatter_add,
        scatter_reduce,
    )
    from tinynet.functional.norms import (
        einsum,
        norm,
        normalize,
    )
    from tinynet.functional.shape import (
        broadcast_tensors,
        chunk,
        diag,
        diagonal,
        diff,
        flip,
        hstack,
        meshgrid,
        movedim,
        narrow,
        ravel,
        repeat,
        repeat_interleave,
        roll,
        select,
        split,
        swapaxes,
        swapdims,
        t,
        tile,
        tril,
        triu,
        unbind,
        unflatten,
        vstack,
    )
    from tinynet.functional.sorting import (
        all,
        any,
        argsort,
        bucketize,
        cummax,
        cummin,
        gather,
        kthvalue,
        median,
        mode,
        msort,
        nanmedian,
        nanquantile,
        quantile,
        searchsorted,
        sort,
        take_along_axis,
        take_along_dim,
        topk,
        unique,
        unique_consecutive,
    )
    from tinynet.functional.statistics import (
        aminmax,
        bincount,
        corrcoef,
        count_nonzero,
        cov,
        histc,
        histogram,
        nanmean,
        nansum,
        std_mean,
        var_mean,
    )
else:
    __getattr__, __dir__ = _lazy_attributes(__name__, _LAZY)

__all__ = [
    "var",
    "std",
    "gelu",
    "flatten",
    "squeeze",
    "unsqueeze",
    "expand",
    "stack",
    "rsqrt",
    "log2",
    "log10",
    "exp2",
    "lerp",
    "isnan",
    "isinf",
    "isfinite",
    "logical_not",
    "logical_and",
    "logical_or",
    "logical_xor",
    "silu",
    "swish",
    "selu",
    "celu",
    "relu6",
    "hardsigmoid",
    "mish",
    "softsign",
    "logsigmoid",
    "softmin",
    "glu",
    "take_along_axis",
    "gather",
    "argsort",
    "sort",
    "topk",
    "cummax",
    "cummin",
    "median",
    "quantile",
    "any",
    "all",
    "norm",
    "normalize",
    "einsum",
    "split",
    "chunk",
    "unbind",
    "tril",
    "triu",
    "diagonal",
    "diag",
    "flip",
    "roll",
    "tile",
    "repeat",
    "repeat_interleave",
    "meshgrid",
    "unflatten",
    "movedim",
    "swapaxes",
    "swapdims",
    "scatter_add",
    "scatter",
    "scatter_reduce",
    "index_select",
    "masked_fill",
    "masked_select",
    "nonzero",
    "one_hot",
    "allclose",
    "cosine_similarity",
    "pairwise_distance",
    "unique",
    # PyTorch's names
    "square",
    "clamp_min",
    "clamp_max",
    "frac",
    "fmax",
    "fmin",
    "nan_to_num",
    "isclose",
    "equal",
    "t",
    "narrow",
    "select",
    "hstack",
    "vstack",
    "broadcast_tensors",
    "diff",
    "take_along_dim",
    "searchsorted",
    "bucketize",
    "cdist",
    "var_mean",
    "std_mean",
    "cov",
    "corrcoef",
    "count_nonzero",
    "bincount",
    "kthvalue",
    "mode",
    "msort",
    "nanmedian",
    "unique_consecutive",
    "aminmax",
    "nansum",
    "nanmean",
    "histc",
    "histogram",
    "ravel",
    "reciprocal",
    "isin",
    "argwhere",
    "nanquantile",
]
