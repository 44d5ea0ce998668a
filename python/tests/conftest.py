"""Shared fixtures of the Python module's tests: small pyhf workspaces and the `agnostic` command.

AGNOSTIC_CLI (set by ctest when the command is built) names the command whose output agnostic.fit must
equal; tests that need it are skipped without it. AGNOSTIC_SOURCE_DIR is the source tree (test data)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("AGNOSTIC_SOURCE_DIR", Path(__file__).resolve().parents[2]))


def two_channel_workspace():
    """A signal region with normsys, histosys and staterror, and a control region sharing the
    background normalisation: every modifier type the CLI comparisons below exercise."""
    return {
        "channels": [
            {
                "name": "SR",
                "samples": [
                    {"name": "signal", "data": [5.0, 10.0, 3.0],
                     "modifiers": [{"name": "mu", "type": "normfactor", "data": None},
                                   {"name": "sig_syst", "type": "normsys", "data": {"hi": 1.1, "lo": 0.92}}]},
                    {"name": "background", "data": [50.0, 45.0, 30.0],
                     "modifiers": [{"name": "bkg_norm", "type": "normfactor", "data": None},
                                   {"name": "shape", "type": "histosys",
                                    "data": {"hi_data": [53.0, 46.0, 29.0], "lo_data": [48.0, 44.5, 31.5]}},
                                   {"name": "staterror_SR", "type": "staterror", "data": [3.0, 2.5, 2.0]}]},
                ],
            },
            {
                "name": "CR",
                "samples": [
                    {"name": "background", "data": [200.0, 180.0],
                     "modifiers": [{"name": "bkg_norm", "type": "normfactor", "data": None},
                                   {"name": "shape", "type": "histosys",
                                    "data": {"hi_data": [205.0, 178.0], "lo_data": [196.0, 183.0]}}]},
                ],
            },
        ],
        "observations": [{"name": "SR", "data": [60.0, 58.0, 31.0]}, {"name": "CR", "data": [205.0, 171.0]}],
        "measurements": [{"name": "meas", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }


@pytest.fixture
def workspace():
    return two_channel_workspace()


@pytest.fixture
def workspace_file(tmp_path, workspace):
    path = tmp_path / "workspace.json"
    path.write_text(json.dumps(workspace, indent=1))
    return path


@pytest.fixture
def cli():
    """Runs `agnostic ARGS...` and returns its stdout parsed as JSON (as text with parse=False)."""
    command = os.environ.get("AGNOSTIC_CLI")
    if not command or not Path(command).exists():
        pytest.skip("the agnostic command is not built (AGNOSTIC_CLI)")

    def run(*args, parse=True):
        done = subprocess.run([command, *map(str, args)], check=True, capture_output=True, text=True)
        return json.loads(done.stdout) if parse else done.stdout

    return run
