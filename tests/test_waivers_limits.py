"""What one trip link cannot be used for (issue 12): a drawing that is a
decompression bomb, names that carry links or addresses, more people than the
boat could ever carry, and an email that repeats personal data to any address.
"""

from __future__ import annotations

import pytest

from chalicelib import waiver_form
from tests.conftest import Api
from tests.test_waivers_signing import (
    data_url,
    make_png,
    post_form,
    signer,
    waiver_items,
)

# --- The drawn signature ---------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(2001, 20), (20, 2001), (4096, 4096)])
def test_drawing_over_2000_pixels_a_side_is_refused(api: Api, event: dict, width: int, height: int):
    fields = signer(signature_png=data_url(make_png(width, height)))
    response = post_form(api, event["id"], fields, accept="application/json")
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == "signature_png"
    assert waiver_items(event["id"]) == []


def test_drawing_of_2000_pixels_a_side_is_accepted(api: Api, event: dict):
    assert waiver_form.check_png(make_png(2000, 2000)) == (2000, 2000)
    fields = signer(signature_png=data_url(make_png(2000, 30)))
    assert post_form(api, event["id"], fields).status_code == 201
