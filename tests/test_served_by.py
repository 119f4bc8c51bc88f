"""Every answer of the app names it, so a deploy check can tell the app from the S3 bucket."""

from __future__ import annotations

from tests.conftest import Api


def test_api_and_waiver_pages_say_the_app_answered(api: Api) -> None:
    health = api.get("/api/health", token=False)
    assert health.headers.get("X-Served-By") == "shipcaptaincrew-app"
    page = api.get("/g/" + "0" * 32 + "/waiver", token=False, headers={"accept": "text/html"})
    assert page.status_code == 404
    assert page.headers.get("X-Served-By") == "shipcaptaincrew-app"
