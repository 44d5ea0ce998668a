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
