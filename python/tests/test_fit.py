"""agnostic.fit and agnostic.Workspace: equal to `agnostic fit` bit for bit, options, errors, the GIL."""

import json
import math
import threading
import time

import numpy as np
import pytest

import agnostic
from conftest import SOURCE_DIR


@pytest.mark.parametrize(
    "options, arguments",
    [
        ({}, []),
        ({"asimov": True, "minos": True}, ["--asimov", "--minos"]),
        ({"upper_limit": True, "cl": 0.9}, ["--upper-limit", "--cl", "0.9"]),
        ({"impacts": True, "scan": (0, 3, 7)}, ["--impacts", "--scan", "0:3:7"]),
        ({"cls": 1.0, "test_stat": "q"}, ["--cls", "1", "--test-stat", "q"]),
        ({"fix": {"bkg_norm": 1.05}, "set": {"mu": 0.5}, "mask": ["CR"]},
         ["--fix", "bkg_norm=1.05", "--set", "mu=0.5", "--mask", "CR"]),
        ({"toys": 20, "seed": 3, "threads": 1}, ["--toys", "20", "--seed", "3", "--threads", "1"]),
    ],
)
def test_fit_equals_the_command_bit_for_bit(workspace, workspace_file, cli, options, arguments):
    expected = cli("fit", workspace_file, *arguments)
    from_dict = agnostic.fit(workspace, **options)
    from_path = agnostic.fit(workspace_file, **options)
    assert json.dumps(from_dict) == json.dumps(expected)  # same keys in the same order, same floats
    assert json.dumps(from_path) == json.dumps(expected)


def test_fit_of_a_patch_equals_the_command(cli):
    bkgonly = SOURCE_DIR / "tests/data/pyhf/example_bkgonly.json"
    patchset = SOURCE_DIR / "tests/data/pyhf/example_patchset.json"
    expected = cli("fit", bkgonly, "--patchset", patchset, "--patch", "all")
    assert agnostic.fit(str(bkgonly), patchset=str(patchset), patch="all") == expected
    # a dict has no file name: the document names it so, and is otherwise the same
    from_dict = agnostic.fit(json.loads(bkgonly.read_text()), patchset=patchset, patch="all")
    assert from_dict.pop("workspace") == "workspace (a Python dict)"
    expected.pop("workspace")
    assert from_dict == expected


def test_fit_document_keys(workspace):
    result = agnostic.fit(workspace, upper_limit=True)
    assert result["status"] == "ok"
    assert result["poi"] == "mu"
    assert "upper_limit" in result and "minos" not in result
    assert set(result["bestfit"]) == set(agnostic.Workspace(workspace).parameters)


def test_fit_errors_name_what_is_wrong(workspace, tmp_path):
    with pytest.raises(FileNotFoundError, match="workspace file '.*missing.json' does not exist"):
        agnostic.fit(tmp_path / "missing.json")
    with pytest.raises(TypeError, match="unexpected keyword argument 'upperlimit'.*upper_limit"):
        agnostic.fit(workspace, upperlimit=True)
    with pytest.raises(ValueError, match="option --cl needs --upper-limit"):
        agnostic.fit(workspace, cl=0.9)
    with pytest.raises(ValueError, match=r"scan: expected \(MIN, MAX, N\)"):
        agnostic.fit(workspace, scan=(0, 3))
    with pytest.raises(ValueError, match="option --scan: MIN 3 must be below MAX 0"):
        agnostic.fit(workspace, scan=(3, 0, 5))
    broken = dict(workspace)
    broken["observations"] = [{"name": "SR", "data": [1.0, 2.0]}, workspace["observations"][1]]
    with pytest.raises(ValueError, match="SR"):
        agnostic.fit(broken)
    with pytest.raises(TypeError, match="dict .pyhf JSON. or a path"):
        agnostic.fit(42)
    with pytest.raises(ValueError, match="cannot be written as JSON"):
        agnostic.fit({"channels": [float("nan")]})


def test_two_threads_fit_at_once_with_the_gil_released(workspace):
    options = {"toys": 6000, "seed": 5, "threads": 1}  # ~0.2 s each
    alone = agnostic.fit(workspace, **options)
    results = [None, None]

    def work(k):
        results[k] = agnostic.fit(workspace, **options)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    ticks = 0
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):  # Python runs here while C++ fits
        ticks += 1
        time.sleep(0.001)
    for t in threads:
        t.join()
    assert results[0] == alone and results[1] == alone
    assert ticks >= 5


def test_workspace_parameters_expected_and_nll_in_closed_form():
    # One channel, a free normalisation only: nu_b = mu * s_b, -log L = sum nu - n ln nu + lgamma(n + 1).
    signal, observed = [10.0, 20.0, 5.0], [12.0, 17.0, 6.0]
    ws = agnostic.Workspace({
        "channels": [{"name": "c", "samples": [{"name": "s", "data": signal, "modifiers": [
            {"name": "mu", "type": "normfactor", "data": None}]}]}],
        "observations": [{"name": "c", "data": observed}],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    })
    assert ws.parameters == ["mu"] and ws.poi == "mu"
    assert ws.channels == [("c", 0, 3)]
    np.testing.assert_array_equal(ws.init, [1.0])
    np.testing.assert_array_equal(ws.bounds, [[0.0, 10.0]])
    np.testing.assert_array_equal(ws.observed, observed)
    for mu in (0.5, 1.0, 1.7):
        nu = mu * np.array(signal)
        np.testing.assert_allclose(ws.expected(np.array([mu])), nu, rtol=1e-15)
        closed = sum(v - n * math.log(v) + math.lgamma(n + 1) for v, n in zip(nu, observed))
        assert ws.nll([mu]) == pytest.approx(closed, rel=1e-13)
    # asimov=True: the data are the nominal expectation (mu = 1)
    closed = sum(s - s * math.log(s) + math.lgamma(s + 1) for s in signal)
    assert ws.nll([1.0], asimov=True) == pytest.approx(closed, rel=1e-13)


def test_workspace_takes_any_numeric_array_and_names_bad_shapes(workspace):
    ws = agnostic.Workspace(workspace)
    n = len(ws.parameters)
    init = ws.init
    reference = ws.nll(init)
    assert ws.nll(init.astype(np.float32).astype(np.float64)) == reference
    strided = np.repeat(init, 2)[::2]  # not contiguous: copied
    assert not strided.flags["C_CONTIGUOUS"] and ws.nll(strided) == reference
    assert ws.nll(list(init)) == reference
    with pytest.raises(ValueError, match=rf"1-D array of {n} values .* got shape \(2, {n}\)"):
        ws.nll(np.vstack([init, init]))
    with pytest.raises(ValueError, match=rf"got shape \({n + 1},\)"):
        ws.expected(np.append(init, 1.0))
    with pytest.raises(ValueError, match="1-D array of numbers"):
        ws.nll(["a"] * n)
    assert ws.expected(init).shape == (5,)
