"""Data for the command line: scikit-learn's datasets, CSV files, splits and standardization.

scikit-learn is imported inside the functions that need it, so ``tinynet --help`` stays fast.
"""

from __future__ import annotations

import collections
import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tinynet.cli._common import CLIError, UsageError, describe_os_error

CLASSIFICATION = "classification"
REGRESSION = "regression"

# The generator options of `tinynet train`, mapped to scikit-learn's keyword names per dataset.
GENERATOR_OPTIONS = ("samples", "noise", "features", "classes", "centers", "factor")


@dataclass(frozen=True)
class DatasetSpec:
    """One scikit-learn dataset: a fixed loader or a generator with the options it takes."""

    function: str  # the name in sklearn.datasets
    task: str
    options: dict = field(default_factory=dict)  # CLI option -> scikit-learn keyword
    defaults: dict = field(default_factory=dict)  # CLI option -> value when not given

    @property
    def is_generator(self) -> bool:
        return self.function.startswith("make_")


_SAMPLES = {"samples": "n_samples"}
DATASETS: dict[str, DatasetSpec] = {
    # Fixed data sets shipped with scikit-learn (no download).
    "iris": DatasetSpec("load_iris", CLASSIFICATION),
    "wine": DatasetSpec("load_wine", CLASSIFICATION),
    "breast_cancer": DatasetSpec("load_breast_cancer", CLASSIFICATION),
    "digits": DatasetSpec("load_digits", CLASSIFICATION),
    "diabetes": DatasetSpec("load_diabetes", REGRESSION),
    # Generators. Defaults differ from scikit-learn's only where its default is a poor demo
    # (noise-free moons are separable by eye; 100 regression features for 1000 samples).
    "moons": DatasetSpec(
        "make_moons",
        CLASSIFICATION,
        {**_SAMPLES, "noise": "noise"},
        {"samples": 1000, "noise": 0.2},
    ),  # fmt: skip
    "circles": DatasetSpec(
        "make_circles",
        CLASSIFICATION,
        {**_SAMPLES, "noise": "noise", "factor": "factor"},
        {"samples": 1000, "noise": 0.1, "factor": 0.5},
    ),  # fmt: skip
    "blobs": DatasetSpec(
        "make_blobs",
        CLASSIFICATION,
        {**_SAMPLES, "features": "n_features", "centers": "centers", "noise": "cluster_std"},
        {"samples": 1000, "features": 2, "centers": 3},
    ),  # fmt: skip
    "classification": DatasetSpec(
        "make_classification",
        CLASSIFICATION,
        {**_SAMPLES, "features": "n_features", "classes": "n_classes", "noise": "flip_y"},
        {"samples": 1000, "features": 20, "classes": 2},
    ),  # fmt: skip
    "gaussian_quantiles": DatasetSpec(
        "make_gaussian_quantiles",
        CLASSIFICATION,
        {**_SAMPLES, "features": "n_features", "classes": "n_classes"},
        {"samples": 1000, "features": 2, "classes": 3},
    ),  # fmt: skip
    "hastie_10_2": DatasetSpec("make_hastie_10_2", CLASSIFICATION, _SAMPLES, {"samples": 1000}),
    "regression": DatasetSpec(
        "make_regression",
        REGRESSION,
        {**_SAMPLES, "features": "n_features", "noise": "noise"},
        {"samples": 1000, "features": 10, "noise": 10.0},
    ),  # fmt: skip
    "friedman1": DatasetSpec(
        "make_friedman1",
        REGRESSION,
        {**_SAMPLES, "features": "n_features", "noise": "noise"},
        {"samples": 1000},
    ),  # fmt: skip
    "friedman2": DatasetSpec(
        "make_friedman2", REGRESSION, {**_SAMPLES, "noise": "noise"}, {"samples": 1000}
    ),
    "friedman3": DatasetSpec(
        "make_friedman3", REGRESSION, {**_SAMPLES, "noise": "noise"}, {"samples": 1000}
    ),
    "sparse_uncorrelated": DatasetSpec(
        "make_sparse_uncorrelated",
        REGRESSION,
        {**_SAMPLES, "features": "n_features"},
        {"samples": 1000},
    ),  # fmt: skip
    "swiss_roll": DatasetSpec(
        "make_swiss_roll", REGRESSION, {**_SAMPLES, "noise": "noise"}, {"samples": 1000}
    ),
    "s_curve": DatasetSpec(
        "make_s_curve", REGRESSION, {**_SAMPLES, "noise": "noise"}, {"samples": 1000}
    ),
}


@dataclass
class Dataset:
    """Features and target ready for training; ``y`` holds class codes for classification."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    task: str
    source: str  # "moons", or the CSV's file name
    class_labels: list[str] | None = None  # class code -> label as text
    categories: dict = field(default_factory=dict)  # text feature column -> its values
    id_column: str | None = None  # carried to the output of `predict`

    @property
    def n_classes(self) -> int:
        return len(self.class_labels or ())


# -- scikit-learn datasets -------------------------------------------------------------------
def _classification_kwargs(n_features: int, n_classes: int) -> dict:
    """Informative/redundant counts that make_classification accepts for these sizes."""
    informative = min(n_features, max(2, math.ceil(math.log2(max(n_classes, 2))) + 1))
    clusters = 2 if n_classes * 2 <= 2**informative else 1
    return {
        "n_informative": informative,
        "n_redundant": min(2, n_features - informative),
        "n_clusters_per_class": clusters,
    }


def load_dataset(name: str, options: dict, seed: int) -> Dataset:
    """Load or generate scikit-learn dataset ``name``; ``options`` are the generator options.

    >>> data = load_dataset("moons", {"samples": 50}, seed=0)
    >>> data.X.shape, data.task, data.class_labels
    ((50, 2), 'classification', ['0', '1'])
    """
    import sklearn.datasets

    spec = DATASETS[name]
    given = {key: value for key, value in options.items() if value is not None}
    if not_applicable := [key for key in given if key not in spec.options]:
        flags = ", ".join(f"--{key}" for key in not_applicable)
        accepted = ", ".join(f"--{key}" for key in spec.options) or "none"
        raise UsageError(
            f"{flags} does not apply to the {name} dataset (options it takes: {accepted})"
        )
    function = getattr(sklearn.datasets, spec.function)
    if not spec.is_generator:
        bunch = function()
        X, y = bunch.data, bunch.target
        feature_names = [str(n) for n in getattr(bunch, "feature_names", [])]
        target_names = getattr(bunch, "target_names", None)
        labels = [str(n) for n in target_names] if target_names is not None else None
    else:
        settings = {**spec.defaults, **given}
        kwargs = {spec.options[key]: value for key, value in settings.items()}
        if spec.function == "make_classification":
            kwargs.update(_classification_kwargs(kwargs["n_features"], kwargs["n_classes"]))
        try:
            X, y = function(**kwargs, random_state=seed)[:2]
        except ValueError as error:  # scikit-learn's own message names the parameter
            raise CLIError(f"cannot generate the {name} dataset: {error}") from error
        feature_names, labels = [], None
    X = np.asarray(X, dtype=np.float64)
    if not feature_names:
        feature_names = [f"x{i}" for i in range(X.shape[1])]
    if spec.task == REGRESSION:
        return Dataset(X, np.asarray(y, np.float64), feature_names, "target", REGRESSION, name)
    values, codes = np.unique(y, return_inverse=True)
    if labels is None:
        labels = [_format_label(v) for v in values]
    else:
        labels = [labels[int(v)] for v in values]
    return Dataset(X, codes, feature_names, "target", CLASSIFICATION, name, labels)


def _format_label(value) -> str:
    """A class label as text: integral numbers without a trailing ``.0``."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


# -- CSV files --------------------------------------------------------------------------------
@dataclass
class Table:
    """A CSV file's header, its cells as text, and the file line each row starts on."""

    path: str
    columns: list[str]
    rows: list[list[str]]
    lines: list[int]

    def where(self, row: int, column: str) -> str:
        return f"{self.path}: row {row + 1} (line {self.lines[row]}), column {column!r}"

    def column(self, name: str) -> list[str]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def require_columns(self, names, purpose: str) -> None:
        if missing := [name for name in names if name not in self.columns]:
            listed = ", ".join(repr(name) for name in missing)
            raise CLIError(
                f"{self.path}: {purpose} {listed} not found; the file has columns "
                f"{', '.join(repr(name) for name in self.columns)}"
            )

    def numeric(self, names) -> np.ndarray:
        """The named columns as a float64 array; a cell that is not a finite number is an error."""
        indices = [self.columns.index(name) for name in names]
        out = np.empty((len(self.rows), len(indices)))
        for r, row in enumerate(self.rows):
            for c, index in enumerate(indices):
                out[r, c] = self._number(row[index], r, names[c])
        return out

    def _number(self, cell: str, row: int, column: str) -> float:
        if not cell:
            raise CLIError(
                f"{self.where(row, column)}: empty cell (missing values are not supported)"
            )
        try:
            value = float(cell)
        except ValueError:
            raise CLIError(f"{self.where(row, column)}: {cell!r} is not a number") from None
        if not math.isfinite(value):
            raise CLIError(f"{self.where(row, column)}: {cell!r} is not a finite number")
        return value


def read_csv(path: str, delimiter: str | None = None) -> Table:
    """Read a CSV file with a header row; cells stay text (stripped of surrounding blanks).

    The delimiter is ``delimiter``, or else detected by ``csv.Sniffer`` among comma,
    semicolon, tab and ``|`` (a comma when the file does not tell).

    >>> _ = open("points.csv", "w").write("x,y\\n1,2\\n3,4\\n")
    >>> read_csv("points.csv").rows
    [['1', '2'], ['3', '4']]
    >>> _ = open("points.csv", "w").write("x;y\\n1,5;2\\n")
    >>> read_csv("points.csv").rows
    [['1,5', '2']]
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            if delimiter is None:
                delimiter = _sniff_delimiter(file.read(65536))
                file.seek(0)
            reader = csv.reader(file, delimiter=delimiter)
            records = [(reader.line_num, row) for row in reader if row]
    except OSError as error:
        raise CLIError(describe_os_error(error, "read")) from error
    except UnicodeDecodeError as error:
        raise CLIError(
            f"{path}: not a UTF-8 text file ({error.reason} at byte {error.start})"
        ) from None
    except csv.Error as error:
        raise CLIError(f"{path}: not a valid CSV file: {error}") from error
    if not records:
        raise CLIError(f"{path}: the file is empty (expected a header row of column names)")
    (_, header), records = records[0], records[1:]
    columns = [name.strip() for name in header]
    if "" in columns:
        raise CLIError(f"{path}: column {columns.index('') + 1} of the header row has no name")
    counts = collections.Counter(columns)  # linear: a header may have a million columns
    if duplicates := sorted(name for name, count in counts.items() if count > 1):
        raise CLIError(f"{path}: duplicate column names in the header: {', '.join(duplicates)}")
    if not records:
        raise CLIError(f"{path}: the file has a header row but no data rows")
    rows, lines = [], []
    for number, (line, row) in enumerate(records, start=1):
        if len(row) != len(columns):
            raise CLIError(
                f"{path}: row {number} (line {line}) has {len(row)} fields, "
                f"the header has {len(columns)}"
            )
        rows.append([cell.strip() for cell in row])
        lines.append(line)
    return Table(path, columns, rows, lines)


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:  # one column, or too little text to tell
        return ","


def _is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def infer_task(target: list[str]) -> str:
    """``classification`` for text labels or few integer values, else ``regression``.

    "Few" means at most 20 distinct values and fewer than half the number of rows.

    >>> infer_task(["0", "1", "1", "0"]), infer_task(["0.5", "1.25", "3.0"]), infer_task(["a", "b"])
    ('classification', 'regression', 'classification')
    """
    if not all(_is_number(cell) for cell in target):
        return CLASSIFICATION
    values = np.array([float(cell) for cell in target])
    distinct = len(np.unique(values))
    integral = bool(np.all(values == np.round(values)))
    few = distinct <= 20 and (distinct <= 2 or distinct < len(values) / 2)
    return CLASSIFICATION if integral and few else REGRESSION


def _check_target_is_unambiguous(table: Table, target: str, cells: list[str]) -> None:
    """With --task auto, a numeric target column with a few non-numbers (nan, inf, a typo)
    is an error, not a silent extra class."""
    numbers = [_is_number(cell) for cell in cells]
    if any(numbers) and not all(numbers):
        row = numbers.index(False)
        if sum(numbers) >= len(numbers) / 2:
            raise CLIError(
                f"{table.where(row, target)}: {cells[row]!r} is not a finite number, but the "
                "target column is numeric; fix the cell, or pass --task classification to "
                "take every value as a class label"
            )


def dataset_from_csv(
    path: str, target: str, task: str = "auto", features: list[str] | None = None,
    drop: Sequence[str] = (), id_column: str | None = None, delimiter: str | None = None,
    categories: dict | None = None,
) -> Dataset:  # fmt: skip
    """The features are ``features``, else every column but ``target``, ``drop`` and
    ``id_column``; ``task`` is auto, classification or regression. Text feature columns are
    one-hot encoded (``Dataset.categories``): columns where no cell is a number; a number
    column with a word in it is an error, not a category. Given ``categories`` (a saved
    model's), text columns are encoded with those values instead."""
    table = read_csv(path, delimiter)
    table.require_columns([target], "target column")
    table.require_columns(list(drop) + ([id_column] if id_column else []), "column")
    for option, names in (("--features", features or ()), ("--drop", drop)):
        for name in (target, id_column):
            if name in names:
                which = "the target" if name == target else "the --id column"
                raise UsageError(f"{option} names {name!r}, which is {which}")
    if features is not None:
        table.require_columns(features, "feature column")
        feature_names = list(features)
    else:
        skip = {target, id_column, *drop}
        feature_names = [name for name in table.columns if name not in skip]
    if not feature_names:
        raise CLIError(f"{path}: no feature columns besides the target {target!r}")
    if categories is None:
        categories = {}
        for name in feature_names:
            cells = [cell for cell in table.column(name) if cell]
            if cells and not any(_is_number(cell) for cell in cells):  # a stray word: a typo
                categories[name] = sorted(set(cells))
    X = encode_features(table, feature_names, categories)
    cells = table.column(target)
    if task == "auto":
        _check_target_is_unambiguous(table, target, cells)
        task = infer_task(cells)
    source = os.path.basename(path)
    if task == REGRESSION:
        y = table.numeric([target])[:, 0]
        return Dataset(X, y, feature_names, target, REGRESSION, source, None, categories, id_column)
    for row, cell in enumerate(cells):
        if not cell:
            raise CLIError(f"{table.where(row, target)}: empty cell (every row needs a label)")
    if all(_is_number(cell) for cell in cells):
        numbers = np.array([float(cell) for cell in cells])
        values, codes = np.unique(numbers, return_inverse=True)
        labels = [_format_label(v) for v in values]
    else:
        values, codes = np.unique(np.array(cells, dtype=str), return_inverse=True)
        labels = [str(v) for v in values]
    if len(labels) < 2:
        raise CLIError(
            f"{path}: the target column {target!r} holds one class only ({labels[0]!r}); "
            "a classifier needs at least two"
        )
    return Dataset(
        X, codes, feature_names, target, CLASSIFICATION, source, labels, categories, id_column
    )


def encode_features(table: Table, names: list[str], categories: dict) -> np.ndarray:
    """The named columns as numbers: a number column as is, a text column one-hot.

    ``categories`` maps each text column to its known values, in the order of their columns;
    a value it does not know is an error (the network never saw it).

    >>> table = Table("t.csv", ["size", "color"], [["1", "red"], ["2", "blue"]], [2, 3])
    >>> encode_features(table, ["size", "color"], {"color": ["blue", "red"]})
    array([[1., 0., 1.],
           [2., 1., 0.]])
    """
    blocks = []
    for name in names:
        if name not in categories:
            blocks.append(table.numeric([name]))
            continue
        known = {value: i for i, value in enumerate(categories[name])}
        block = np.zeros((len(table.rows), len(known)))
        for row, cell in enumerate(table.column(name)):
            if not cell:
                raise CLIError(
                    f"{table.where(row, name)}: empty cell (missing values are not supported)"
                )
            if cell not in known:
                shown = ", ".join(repr(value) for value in categories[name])
                raise CLIError(
                    f"{table.where(row, name)}: {cell!r} is not one of the values the model "
                    f"was trained on ({shown})"
                )
            block[row, known[cell]] = 1.0
        blocks.append(block)
    return np.hstack(blocks) if blocks else np.empty((len(table.rows), 0))


def encoded_names(names: list[str], categories: dict) -> list[str]:
    """Column names after one-hot encoding: ``color=red`` for each value of a text column."""
    out = []
    for name in names:
        out.extend(
            [f"{name}={value}" for value in categories[name]] if name in categories else [name]
        )
    return out


# -- splits and scaling -----------------------------------------------------------------------
@dataclass
class Splits:
    """Row indices of the train, validation and test parts."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def split_rows(data: Dataset, validation_split: float, test_split: float, seed: int) -> Splits:
    """Shuffle rows into train/validation/test; both fractions are of the whole data set.

    Classification splits are stratified when every class has enough rows for it.

    >>> data = load_dataset("moons", {"samples": 100}, seed=0)
    >>> parts = split_rows(data, 0.1, 0.2, seed=0)
    >>> len(parts.train), len(parts.validation), len(parts.test)
    (70, 10, 20)
    """
    from sklearn.model_selection import train_test_split

    n = len(data.y)
    n_test = round(test_split * n)
    n_validation = round(validation_split * n)
    if n - n_test - n_validation < 2:
        raise CLIError(
            f"{n} rows leave {n - n_test - n_validation} for training after the validation "
            f"({n_validation}) and test ({n_test}) splits; use smaller --validation-split or "
            "--test-split, or more data"
        )
    rows = np.arange(n)

    def take(pool, size):
        if size == 0:
            return pool, pool[:0]
        labels = data.y[pool] if data.task == CLASSIFICATION else None
        stratify = labels if labels is not None and _can_stratify(labels, size) else None
        return train_test_split(pool, test_size=size, random_state=seed, stratify=stratify)

    rest, test = take(rows, n_test)
    train, validation = take(rest, n_validation)
    return Splits(np.sort(train), np.sort(validation), np.sort(test))


def _can_stratify(labels: np.ndarray, size: int) -> bool:
    counts = np.unique(labels, return_counts=True)[1]
    return counts.min() >= 2 and len(counts) <= size <= len(labels) - len(counts)


def standardizer(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and scales of ``X`` (a constant column gets scale 1)."""
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked by the caller
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
    return mean, np.where(scale > 0, scale, 1.0)


def check_scalable(X: np.ndarray, mean, scale, names: list[str], where: str) -> None:
    """Refuse columns whose values overflow standardization (|x| near 1e308), naming them."""
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(mean) & np.isfinite(scale) & np.isfinite((X - mean) / scale).all(0)
    if not finite.all():
        column = int(np.argmin(finite))
        largest = float(np.max(np.abs(X[:, column])))
        raise CLIError(
            f"{where}: column {names[column]!r} holds values too large to standardize "
            f"(up to {largest:.3g} in absolute value); rescale the column, e.g. divide it "
            "by a power of ten"
        )
