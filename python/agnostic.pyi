"""Type stub of the `agnostic` extension module (python/agnostic_module.cpp; docs/python.md)."""

import os
from typing import Any, Iterable, Mapping, Sequence, Union

import numpy as np
import numpy.typing as npt

PathLike = Union[str, "os.PathLike[str]"]
ArrayLike = npt.ArrayLike

def fit(workspace: Union[Mapping[str, Any], PathLike], **options: Any) -> dict:
    """The document `agnostic fit` prints, as a dict; options are the command's with '_' for '-'."""

class Workspace:
    """The binned likelihood of a pyhf JSON workspace, for one's own loops."""

    def __init__(self, workspace: Union[Mapping[str, Any], PathLike], measurement: str = "", poi: str = "") -> None: ...
    @property
    def parameters(self) -> list[str]: ...
    @property
    def poi(self) -> str: ...
    @property
    def init(self) -> np.ndarray: ...
    @property
    def bounds(self) -> np.ndarray: ...
    @property
    def fixed(self) -> list[bool]: ...
    @property
    def observed(self) -> np.ndarray: ...
    @property
    def channels(self) -> list[tuple[str, int, int]]: ...
    def nll(self, values: ArrayLike, asimov: bool = False) -> float: ...
    def expected(self, values: ArrayLike) -> np.ndarray: ...

Columns = Any  # a dict of 1-D arrays, a numpy structured array, or a DataFrame (keys() and columns by name)

def train(
    config: Union[Mapping[str, Any], PathLike],
    data: Columns | None = None,
    out: PathLike | None = None,
    resume: bool = False,
    force: bool = False,
) -> dict:
    """Trains as `agnostic train` does and returns the run's summary (summary.json). float32/float64
    columns are read in place (leave them unchanged while it trains); resume=True refuses data other
    than the run's (the checkpoint's data fingerprint)."""

class Model:
    """A model file (model.json) of a training run or of `agnostic import`."""

    @staticmethod
    def load(path: PathLike) -> "Model": ...
    @property
    def feature_names(self) -> list[str]: ...
    @property
    def inputs(self) -> list[str]: ...
    @property
    def outputs(self) -> list[str]: ...
    @property
    def n_parameters(self) -> int: ...
    @property
    def training(self) -> dict: ...
    def predict(self, X: Union[ArrayLike, Columns]) -> np.ndarray:
        """float32 array of shape (events, outputs)."""
    def export(self, format: str, path: PathLike, name: str = "") -> None:
        """format: 'onnx', 'lwtnn' or 'header'."""

has_hdf5: bool  # whether read_data, train and predict read .h5/.hdf5 files (built with AGNOSTIC_HDF5)

def read_data(path: PathLike) -> dict[str, np.ndarray]:
    """A data file as training reads it: numeric columns (float64), then text columns (str)."""
