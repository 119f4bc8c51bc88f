"""Admin scripts: the local stack, and putting Ship Captain Crew on AWS and keeping it there.

Each script runs as `python scripts/<name>.py --help`; the package form exists so
tests (and scripts/deploy.py) can import them.
"""

import os
import sys
from pathlib import Path

_VENV = Path(__file__).resolve().parents[1] / ".venv"


def use_repo_venv(script: str) -> None:
    """Run as `scripts/<name>.py` (its shebang) by a Python outside the repo's .venv:
    run again under the .venv's Python, which has boto3, chalice and moto.

    Called before any third-party import; does nothing inside the .venv, without one,
    or when it already re-ran once.
    """
    python = _VENV / "bin" / "python"
    if not python.exists() or os.environ.get("SCC_REPO_VENV"):
        return
    if Path(sys.prefix).resolve() == _VENV.resolve():
        return
    os.environ["SCC_REPO_VENV"] = "1"
    os.execv(str(python), [str(python), script, *sys.argv[1:]])  # noqa: S606 (our own venv)
