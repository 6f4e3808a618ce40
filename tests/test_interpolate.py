"""F.interpolate and the nn.Upsample modules against PyTorch's documented examples, SciPy's
``ndimage.zoom`` (an independent implementation of the same pixel conventions), closed forms
of the source positions, and PyTorch's argument rules. The OpInfo entry ("interpolate") adds
the Hypothesis properties: forward against a loop reference, orders 1 and 2, dtypes."""

import warnings

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F

# PyTorch's nn.Upsample examples: input = torch.arange(1, 5).view(1, 1, 2, 2), and the same
# values in the corner of a 3x3 zero tensor. The docs print four decimals.
SMALL = np.arange(1.0, 5.0, dtype=np.float32).reshape(1, 1, 2, 2)
CORNER = np.zeros((1, 1, 3, 3), np.float32)
CORNER[..., :2, :2] = SMALL
DOCS = [
    (SMALL, {"mode": "nearest"}, [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]),
    (
        SMALL,
        {"mode": "bilinear"},
        [
            [1.0, 1.25, 1.75, 2.0],
            [1.5, 1.75, 2.25, 2.5],
            [2.5, 2.75, 3.25, 3.5],
            [3.0, 3.25, 3.75, 4.0],
        ],
    ),
    (
        SMALL,
        {"mode": "bilinear", "align_corners": True},
        [
            [1.0000, 1.3333, 1.6667, 2.0000],
            [1.6667, 2.0000, 2.3333, 2.6667],
            [2.3333, 2.6667, 3.0000, 3.3333],
            [3.0000, 3.3333, 3.6667, 4.0000],
        ],
    ),
    (
        CORNER,
        {"mode": "bilinear"},
        [
            [1.0000, 1.2500, 1.7500, 1.5000, 0.5000, 0.0000],
            [1.5000, 1.7500, 2.2500, 1.8750, 0.6250, 0.0000],
            [2.5000, 2.7500, 3.2500, 2.6250, 0.8750, 0.0000],
            [2.2500, 2.4375, 2.8125, 2.2500, 0.7500, 0.0000],
            [0.7500, 0.8125, 0.9375, 0.7500, 0.2500, 0.0000],
            [0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        ],
    ),
    (
        CORNER,
        {"mode": "bilinear", "align_corners": True},
        [
            [1.0000, 1.4000, 1.8000, 1.6000, 0.8000, 0.0000],
            [1.8000, 2.2000, 2.6000, 2.2400, 1.1200, 0.0000],
            [2.6000, 3.0000, 3.4000, 2.8800, 1.4400, 0.0000],
            [2.4000, 2.7200, 3.0400, 2.5600, 1.2800, 0.0000],
            [1.2000, 1.3600, 1.5200, 1.2800, 0.6400, 0.0000],
            [0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        ],
    ),
]


@pytest.mark.parametrize("x, kwargs, expected", DOCS)
def test_the_examples_of_pytorchs_upsample_docs(x, kwargs, expected):
    out = nn.Upsample(scale_factor=2, **kwargs)(tn.tensor(x))
    assert out.shape == (1, 1, *np.shape(expected)) and out.dtype == np.float32
    np.testing.assert_allclose(out.data[0, 0], expected, rtol=0, atol=5e-5)  # docs' 4 decimals


def test_the_examples_of_the_deprecated_2d_modules():
    nearest = nn.UpsamplingNearest2d(scale_factor=2)(tn.tensor(SMALL))
    np.testing.assert_array_equal(nearest.data[0, 0], DOCS[0][2])
    bilinear = nn.UpsamplingBilinear2d(scale_factor=2)(tn.tensor(SMALL))
    np.testing.assert_allclose(bilinear.data[0, 0], DOCS[2][2], rtol=0, atol=5e-5)


# -- against scipy.ndimage.zoom: its grid_mode=True is PyTorch's align_corners=False (pixel
# areas, edge values beyond the border), grid_mode=False its align_corners=True (corner
# centres); order 0 with grid_mode=True rounds like 'nearest-exact'. ------------------------
def zoom(x: np.ndarray, size: tuple, order: int, grid_mode: bool) -> np.ndarray:
    factors = (1, 1, *(o / n for o, n in zip(size, x.shape[2:])))
    mode = "nearest" if grid_mode else "constant"
    return ndi.zoom(x, factors, order=order, mode=mode, grid_mode=grid_mode)


CASES = [
    ("linear", 1, True, False),
    ("linear", 1, False, True),
    ("nearest-exact", 0, True, None),
]


@pytest.mark.parametrize("mode, order, grid_mode, align_corners", CASES)
@given(data=st.data())
def test_sizes_agree_with_scipy_zoom(mode, order, grid_mode, align_corners, data):
    spatial = data.draw(st.integers(1, 3), label="spatial")
    if mode == "linear":
        mode = ("linear", "bilinear", "trilinear")[spatial - 1]
    shape = data.draw(st.tuples(*[st.integers(1, 5)] * spatial), label="shape")
    lowest = 2 if not grid_mode else 1  # zoom has no corner-aligned grid for one output
    size = data.draw(st.tuples(*[st.integers(lowest, 7)] * spatial), label="size")
    x = np.random.default_rng(len(shape)).standard_normal((2, 1, *shape))
    kwargs = {} if align_corners is None else {"align_corners": align_corners}
    out = F.interpolate(tn.tensor(x), size=size, mode=mode, **kwargs)
    np.testing.assert_allclose(out.data, zoom(x, size, order, grid_mode), rtol=1e-12, atol=1e-12)


# -- closed forms of PyTorch's source positions ----------------------------------------------
def test_nearest_reads_floor_of_i_times_in_over_out_and_exact_the_pixel_centres():
    x = tn.tensor(np.arange(3.0).reshape(1, 1, 3))
    # scale 3/5: floor(i * 0.6) and floor((i + 0.5) * 0.6)
    assert F.interpolate(x, size=5).tolist() == [[[0.0, 0.0, 1.0, 1.0, 2.0]]]
    assert F.interpolate(x, size=5, mode="nearest-exact").tolist() == [[[0.0, 0.0, 1.0, 2.0, 2.0]]]


def test_nearest_computes_its_positions_in_float32_as_pytorch():
    # aten/src/ATen/native/UpSample.h: nearest_neighbor_compute_source_index takes a float
    # scale and floors dst_index * scale in float. float32(2 / 82) * 41 rounds below 1, so
    # output 41 of 82 reads input 0 (exact arithmetic reads 1); float32(1 / 2.2) * 33 rounds
    # to 15 (as exact arithmetic), where float64's 33 / 2.2 falls below 15 and would read 14.
    two = F.interpolate(tn.tensor(np.array([[[0.0, 1.0]]])), size=82).data[0, 0]
    assert two[40] == 0.0 and two[41] == 0.0 and two[42] == 1.0
    assert 41 * 2 / 82 == 1.0 and 33 / 2.2 < 15
    ramp = F.interpolate(tn.tensor(np.arange(16.0).reshape(1, 1, 16)), scale_factor=2.2)
    assert ramp.shape == (1, 1, 35) and ramp.data[0, 0, 33] == 15.0


def test_a_scale_factor_is_used_as_given_unless_recomputed():
    x = tn.tensor(np.arange(3.0).reshape(1, 1, 3))
    # 3 * 1.5 -> 4 outputs; the positions use 1 / 1.5, not 3 / 4: (i + 0.5) * 2/3 - 0.5
    given_scale = F.interpolate(x, scale_factor=1.5, mode="linear")
    np.testing.assert_allclose(given_scale.data[0, 0], [0.0, 0.5, 7 / 6, 11 / 6], rtol=1e-15)
    recomputed = F.interpolate(x, scale_factor=1.5, mode="linear", recompute_scale_factor=True)
    np.testing.assert_array_equal(
        recomputed.data, F.interpolate(x, size=4, mode="linear").data
    )  # (i + 0.5) * 3/4 - 0.5, clamped at 0
    np.testing.assert_allclose(recomputed.data[0, 0], [0.0, 0.625, 1.375, 2.0], rtol=1e-15)
    # nearest, 4 * 2.6 -> 10 outputs: floor(i / 2.6) against floor(i * 4/10) at i = 5
    ramp = tn.tensor(np.arange(4.0).reshape(1, 1, 4))
    assert F.interpolate(ramp, scale_factor=2.6).tolist() == [[[0, 0, 0, 1, 1, 1, 2, 2, 3, 3]]]
    recomputed = F.interpolate(ramp, scale_factor=2.6, recompute_scale_factor=True)
    assert recomputed.tolist() == [[[0, 0, 0, 1, 1, 2, 2, 2, 3, 3]]]


def test_an_axis_that_keeps_its_size_is_copied_as_pytorch_does():
    # 3 * 1.2 -> 3: PyTorch copies the axis (its kernels' out == in case) instead of reading
    # floor(i / 1.2) = [0, 0, 1] (nearest) or (i + 0.5) / 1.2 - 0.5 (linear).
    x = tn.tensor(np.array([[[1.0, 5.0, -2.0]]]))
    for mode in ("nearest", "nearest-exact", "linear"):
        np.testing.assert_array_equal(F.interpolate(x, scale_factor=1.2, mode=mode).data, x.data)


def test_one_output_with_align_corners_reads_the_first_input():
    x = tn.tensor(np.array([[[[1.0, 2.0, 3.0]]]]))
    assert F.interpolate(x, size=(1, 1), mode="bilinear", align_corners=True).tolist() == [
        [[[1.0]]]
    ]
    # without: the centre, (0 + 0.5) * 3 - 0.5 = 1
    assert F.interpolate(x, size=(1, 1), mode="bilinear").tolist() == [[[[2.0]]]]


def test_area_on_5d_averages_each_box():
    x = np.random.default_rng(4).standard_normal((1, 2, 5, 3, 4))
    out = F.interpolate(tn.tensor(x), size=(2, 3, 3), mode="area").data
    d, w = [(0, 3), (2, 5)], [(0, 2), (1, 3), (2, 4)]  # PyTorch's adaptive windows
    for i, (d0, d1) in enumerate(d):
        for k, (w0, w1) in enumerate(w):
            for j in range(3):
                box = x[:, :, d0:d1, j, w0:w1].mean(axis=(2, 3))
                np.testing.assert_allclose(out[:, :, i, j, k], box, rtol=1e-14)


def test_area_is_adaptive_average_pooling():
    x = tn.tensor(np.arange(12.0).reshape(1, 2, 6))
    np.testing.assert_array_equal(
        F.interpolate(x, size=3, mode="area").data, tn.adaptive_avg_pool1d(x, 3).data
    )
    image = tn.randn(1, 1, 4, 6, rng=0)
    np.testing.assert_array_equal(
        F.interpolate(image, scale_factor=0.5, mode="area").data,
        tn.adaptive_avg_pool2d(image, (2, 3)).data,
    )


def keys_cubic(d: float, a: float = -0.75) -> float:
    """Keys' cubic convolution kernel (PyTorch's bicubic, without antialias)."""
    d = abs(d)
    if d <= 1:
        return (a + 2) * d**3 - (a + 3) * d**2 + 1
    return a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a if d < 2 else 0.0


def test_bicubic_on_the_docs_input():
    # Output (0, 0) reads position -0.25 on both axes: taps -2..1 clamped to [0, 0, 0, 1]
    # with weights k(1.75), k(0.75), k(0.25), k(1.25); k(1.25) = -0.10546875, so each axis
    # gives v0 + k(1.25) * (v1 - v0): 1 - 0.10546875 and 3 - 0.10546875 along W, then H.
    out = F.interpolate(tn.tensor(SMALL.astype(np.float64)), scale_factor=2, mode="bicubic")
    row0, row1 = 1 - 0.10546875, 3 - 0.10546875
    assert keys_cubic(1.25) == -0.10546875
    assert out.data[0, 0, 0, 0] == row0 + keys_cubic(1.25) * (row1 - row0) == 0.68359375
    # the input is antisymmetric about its centre (x + flip(x) = 5), so is the output
    np.testing.assert_allclose(out.data + out.data[..., ::-1, ::-1], 5.0, rtol=1e-15)


def test_bicubic_keeps_constants_and_interior_ramps():
    constant = F.interpolate(
        tn.full((1, 1, 3, 2), 2.5, dtype=tn.float64), size=(5, 7), mode="bicubic"
    )
    np.testing.assert_allclose(constant.data, 2.5, rtol=1e-14)  # weights sum to 1 to rounding
    ramp = tn.tensor(np.arange(8.0).reshape(1, 1, 1, 8))
    out = F.interpolate(ramp, size=(1, 15), mode="bicubic", align_corners=True).data[0, 0, 0]
    # positions 1..13 read i/2; those with all four taps inside (2..12) reproduce the ramp
    np.testing.assert_allclose(out[2:13], np.arange(2, 13) / 2, rtol=1e-14)
    assert out[1] != 0.5  # the edge clamps a tap


def test_bicubic_uses_the_scale_factor_as_given():
    x = np.array([[[[1.0, -2.0]]]])
    out = F.interpolate(tn.tensor(x), scale_factor=(1.0, 1.7), mode="bicubic").data[0, 0, 0]
    expected = []
    for i in range(3):  # positions (i + 0.5) / 1.7 - 0.5, taps clamped to the two inputs
        real = (i + 0.5) / 1.7 - 0.5
        low = int(np.floor(real))
        expected.append(
            sum(
                keys_cubic(real - (low + k)) * x[0, 0, 0, min(max(low + k, 0), 1)]
                for k in (-1, 0, 1, 2)
            )
        )
    np.testing.assert_allclose(out, expected, rtol=1e-14)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
@given(data=st.data())
def test_antialias_matches_pillows_resize(mode, data):
    # PyTorch's antialias is Pillow's resampling (a triangle, Keys' cubic with A = -0.5, or
    # Lanczos-3, stretched by the scale when downsampling); Pillow stores each pass in float32.
    image = pytest.importorskip("PIL.Image", reason="Pillow comes with matplotlib (test extra)")
    shape = data.draw(st.tuples(st.integers(1, 12), st.integers(1, 12)), label="shape")
    size = data.draw(st.tuples(st.integers(1, 12), st.integers(1, 12)), label="size")
    x = np.random.default_rng(shape[0] * 13 + shape[1]).standard_normal(shape).astype(np.float32)
    filters = {
        "bilinear": image.Resampling.BILINEAR,
        "bicubic": image.Resampling.BICUBIC,
        "lanczos": image.Resampling.LANCZOS,
    }
    expected = np.asarray(image.fromarray(x, mode="F").resize(size[::-1], filters[mode]))
    out = F.interpolate(
        tn.tensor(x[None, None].astype(np.float64)), size, mode=mode, antialias=True
    )
    np.testing.assert_allclose(out.data[0, 0], expected, rtol=0, atol=2e-6)


def test_antialias_averages_every_input_when_downsampling():
    # Halving: the triangle stretches to two inputs on each side of its centre (1, then 3),
    # so inputs 0..2 weigh (3, 3, 1) / 7 and 1..3 weigh (1, 3, 3) / 7 (the tap beyond the
    # edge is renormalized away); without antialias each output reads two inputs.
    x = tn.tensor(np.array([[[[0.0, 8.0, 16.0, 24.0]]]]))
    out = F.interpolate(x, size=(1, 2), mode="bilinear", antialias=True).data[0, 0, 0]
    np.testing.assert_allclose(out, [(3 * 0 + 3 * 8 + 16) / 7, (8 + 3 * 16 + 3 * 24) / 7])
    plain = F.interpolate(x, size=(1, 2), mode="bilinear").data[0, 0, 0]
    np.testing.assert_allclose(plain, [4.0, 20.0])


# -- gradients ---------------------------------------------------------------------------------
def test_nearest_backward_adds_each_block_of_the_output_gradient():
    x = tn.randn(2, 3, 3, 4, dtype=tn.float64, requires_grad=True, rng=0)
    weights = np.random.default_rng(1).standard_normal((2, 3, 6, 8))
    (F.interpolate(x, scale_factor=2) * tn.tensor(weights)).sum().backward()
    blocks = weights.reshape(2, 3, 3, 2, 4, 2).sum(axis=(3, 5))
    np.testing.assert_allclose(x.grad.data, blocks, rtol=1e-14)


def test_linear_modes_pass_both_gradient_checks_in_3d():
    x = tn.randn(1, 1, 2, 2, 3, dtype=tn.float64, requires_grad=True, rng=2)
    for kwargs in ({"align_corners": True}, {"scale_factor": 1.5}):
        size = None if "scale_factor" in kwargs else (3, 1, 4)
        function = lambda x, kwargs=kwargs, size=size: F.interpolate(  # noqa: E731
            x, size=size, mode="trilinear", **kwargs
        )
        assert tn.gradcheck(function, (x,)) and tn.gradgradcheck(function, (x,))


def test_float32_stays_float32_and_integers_resize_with_nearest():
    out = F.interpolate(tn.ones(1, 1, 3, dtype=tn.float32), size=5, mode="linear")
    assert out.dtype == np.float32
    labels = tn.tensor(np.array([[[1, 2, 3]]]))
    assert F.interpolate(labels, scale_factor=2).tolist() == [[[1, 1, 2, 2, 3, 3]]]
    with pytest.raises(TypeError, match="floating"):
        F.interpolate(labels, scale_factor=2, mode="linear")


def test_the_default_align_corners_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.interpolate(tn.ones(1, 1, 2, 2), scale_factor=1.5, mode="bilinear")
        nn.Upsample(scale_factor=2.5, mode="bilinear")(tn.ones(1, 1, 2, 2))


# -- PyTorch's argument rules ------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape, kwargs, error, match",
    [
        ((1, 1, 4), {"size": 2, "scale_factor": 2}, ValueError, "only one of size or scale"),
        ((1, 1, 4), {}, ValueError, "either size or scale_factor"),
        ((1, 1, 4), {"size": 2, "align_corners": True}, ValueError, "align_corners can only"),
        ((1, 1, 4), {"size": 2, "mode": "bilinear"}, NotImplementedError, "needs 4-D input"),
        ((1, 1, 2, 2), {"size": 2, "mode": "trilinear"}, NotImplementedError, "needs 5-D"),
        ((1, 2, 2, 2, 2), {"size": 2, "mode": "linear"}, NotImplementedError, "'trilinear'"),
        ((4, 4), {"size": 2}, NotImplementedError, "3-D, 4-D and 5-D"),
        ((1, 1, 2, 2), {"size": 3, "mode": "lanczos"}, ValueError, "requires antialias=True"),
        ((1, 1, 2, 2), {"size": 3, "mode": "lanczos", "antialias": True, "align_corners": True},
         ValueError, "does not support align_corners=True"),
        ((1, 1, 2), {"size": 3, "mode": "lanczos", "antialias": True}, ValueError, "4-D tensor"),
        ((1, 1, 4), {"size": 2, "mode": "bicubic"}, NotImplementedError, "needs 4-D input"),
        ((1, 1, 2, 2), {"size": 3, "mode": "cubic"}, NotImplementedError, "unknown mode"),
        ((1, 1, 4), {"size": 2, "antialias": True}, ValueError, "anti-alias"),
        ((1, 1, 4, 4), {"size": 2, "antialias": True}, ValueError, "mode='nearest' on 4-D"),
        ((1, 1, 4, 4), {"size": (2, 2, 2)}, ValueError, "same number of spatial"),
        ((1, 1, 4, 4), {"scale_factor": (2.0,)}, ValueError, "same number of spatial"),
        ((1, 1, 4), {"size": 2.5}, TypeError, "expected size to be one of int"),
        ((1, 1, 4), {"scale_factor": "2"}, TypeError, "finite number"),
        ((1, 1, 4), {"size": 2, "recompute_scale_factor": True}, ValueError, "not meaningful"),
        ((1, 1, 4), {"scale_factor": 0.2}, tn.ShapeError, r"output \(W: 0\)"),
        ((1, 1, 0, 2), {"size": 2}, RuntimeError, "greater than 0"),
    ],
)  # fmt: skip
def test_bad_arguments_raise_what_pytorch_raises(shape, kwargs, error, match):
    with pytest.raises(error, match=match):
        F.interpolate(tn.ones(*shape), **kwargs)


# -- the modules and the deprecated spellings --------------------------------------------------
def test_upsample_modules_repr_store_and_hold_no_parameters():
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.Upsample(size=(4, 5), mode="bilinear")) == (
        "Upsample(size=(4, 5), mode='bilinear')"
    )
    assert repr(nn.UpsamplingBilinear2d(scale_factor=(2, 3))) == (
        "UpsamplingBilinear2d(scale_factor=(2.0, 3.0), mode='bilinear')"
    )
    module = nn.UpsamplingBilinear2d(size=3)
    assert module.align_corners is True and module.mode == "bilinear"
    assert nn.UpsamplingNearest2d(size=3).align_corners is None
    assert module.state_dict() == {} and list(module.parameters()) == []
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, rng=0), nn.Upsample(scale_factor=2))
    assert net(tn.ones(1, 1, 4, 4)).shape == (1, 2, 8, 8)


def test_the_deprecated_functions_warn_and_resize_as_interpolate():
    x = tn.randn(1, 1, 2, 3, rng=3)
    with pytest.warns(UserWarning, match="upsample is deprecated"):
        old = F.upsample(x, scale_factor=2, mode="bilinear")
    np.testing.assert_array_equal(old.data, F.interpolate(x, scale_factor=2, mode="bilinear").data)
    with pytest.warns(UserWarning, match="upsample_nearest is deprecated"):
        old = F.upsample_nearest(x, size=(3, 3))
    np.testing.assert_array_equal(old.data, F.interpolate(x, size=(3, 3)).data)
    with pytest.warns(UserWarning, match="upsample_bilinear is deprecated"):
        old = F.upsample_bilinear(x, scale_factor=2)
    expected = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    np.testing.assert_array_equal(old.data, expected.data)


def test_a_compiled_step_with_upsample_replays_eagers_bits():
    # The positions and weights come from shapes alone, so tn.compile records and replays
    # them (tests/test_compile.py holds replays to eager's bits).
    net = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1, rng=0),
        nn.Upsample(scale_factor=1.5, mode="bilinear"),
        nn.Flatten(),
        nn.Linear(2 * 6 * 6, 1, rng=1),
    )

    def step(x):
        loss = net(x).square().sum()
        loss.backward()
        return loss

    x = tn.randn(2, 1, 4, 4, rng=2)
    compiled = tn.compile(step)
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a fall back to eager warns
        for run in (compiled, step):
            for _ in range(3):  # two recordings, then a replay
                for parameter in net.parameters():
                    parameter.grad = None
                loss = run(x)
            results.append((loss.item(), [p.grad.data.copy() for p in net.parameters()]))
    assert any(type(entry).__name__ == "Program" for entry in compiled._entries.values())
    (replayed, replayed_grads), (eager, eager_grads) = results
    assert replayed == eager
    for grad, expected in zip(replayed_grads, eager_grads):
        np.testing.assert_array_equal(grad, expected)
