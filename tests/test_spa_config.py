"""The dispatch page's settings agree with the stage configuration."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_dispatch_page_uses_the_operators_time_zone():
    # The board computes "today" in the operator's zone; it must be the API's zone.
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    zone = config["environment_variables"]["OPERATOR_TZ"]
    page = (ROOT / "spa" / "config.js").read_text()
    found = re.search(r'OPERATOR_TZ\s*=\s*"([^"]+)"', page)
    assert found, "spa/config.js must export OPERATOR_TZ"
    assert found.group(1) == zone
    for stage in config["stages"].values():
        assert stage["environment_variables"].get("OPERATOR_TZ", zone) == zone
