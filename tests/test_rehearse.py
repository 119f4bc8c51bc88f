"""`make rehearse`: docs/deploy.md's go-live from nothing on the emulator ends in PASS.

It runs as a process of its own (as `make rehearse` does): the emulator it starts
fills moto's gaps by patching moto, which must not leak into the other tests."""

from __future__ import annotations

import subprocess
import sys

import pytest

from scripts import awstools

pytestmark = [pytest.mark.rehearsal, pytest.mark.timeout(1200)]


def test_the_go_live_of_the_docs_passes_on_the_emulator_with_evidence() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/rehearse.py", "--worktree"],
        cwd=awstools.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1100,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out[-6000:] + done.stderr[-3000:]
    assert out.rstrip().splitlines()[-1].startswith("==> PASS")
    # Both stages went through chalice deploy itself and every step of deploy.py.
    assert out.count("scripts/deploy.py --stage staging --yes") == 2  # first, then routine
    assert "scripts/deploy.py --stage prod --yes" in out
    # The evidence it made, through each stage's distribution: a login, a payment,
    # a waiver; and verify_deploy proved each stage with it (exit 0: every check PASS).
    assert out.count("logged in; trip") == 2
    assert "8. verify prod" in out
    assert "4. verify staging" in out
    # A second bootstrap finds nothing to change (moto's gaps are filled, not skipped).
    assert "3. bootstrap staging again" in out
    # The routine release is rolled back with one command (its expected output checked).
    assert "roll staging back: " in out
