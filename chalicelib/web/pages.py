"""The plumbing of HTML pages served by the app itself (the patron's waiver pages).

What makes a page safe to serve from Lambda lives here: the security headers,
a Content-Security-Policy without 'unsafe-inline' (the one stylesheet and the
one script are inlined and allowed by their SHA-256, computed from the very
bytes that are sent), form parsing, and answering errors as a page or as JSON,
whichever the client asked for.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalice import Response

from chalicelib import aws, logs, templates
from chalicelib.errors import ApiError
from chalicelib.web.request_facts import JSON_TYPE, Incoming

HTML_TYPE = "text/html; charset=utf-8"
ASSET_DIR = Path(templates.TEMPLATE_DIR) / "waiver"
STYLE_ASSET = "style.css"
SCRIPT_ASSET = "signature.js"


# --- Security headers -------------------------------------------------------------


def csp_source(text: str) -> str:
    """The CSP source expression that allows exactly this inline script or style."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(*, styles: Iterable[str] = (), scripts: Iterable[str] = ()) -> str:
    """Nothing is allowed unless listed: no inline code but the hashed blocks given."""
    directives = ["default-src 'none'"]
    style_sources = " ".join(csp_source(s) for s in styles)
    script_sources = " ".join(csp_source(s) for s in scripts)
    if style_sources:
        directives.append(f"style-src {style_sources}")
    if script_sources:
        directives.append(f"script-src {script_sources}")
    directives += ["form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"]
    return "; ".join(directives)


def security_headers(csp: str) -> dict[str, str]:
    """Headers every page carries. The page URL holds the trip id, a capability: no referrer."""
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }


# --- Pages ------------------------------------------------------------------------


@lru_cache(maxsize=4)
def asset(name: str) -> str:
    """An inlined stylesheet or script, read once per process."""
    return (ASSET_DIR / name).read_text(encoding="utf-8")


def page(
    template: str,
    *,
    status: int = 200,
    script: bool = False,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> Response:
    """Render a waiver page with its inline stylesheet (and script) allowed by hash."""
    from markupsafe import Markup  # Jinja2's own dependency, loaded with it

    style = asset(STYLE_ASSET)
    scripts = [asset(SCRIPT_ASSET)] if script else []
    # Markup: these are the app's own files, never user input, and must reach the
    # page byte for byte or their hashes would not match.
    body = templates.render(
        template,
        inline_style=Markup(style),  # noqa: S704
        inline_script=Markup(scripts[0]) if scripts else None,  # noqa: S704
        **context,
    )
    sent: dict[str, str | list[str]] = {
        "Content-Type": HTML_TYPE,
        **security_headers(content_security_policy(styles=[style], scripts=scripts)),
        **(headers or {}),
    }
    return Response(body=body, status_code=status, headers=sent)


def json_answer(
    body: Mapping[str, Any], *, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON answer with the same no-sniff, no-store headers as the pages."""
    sent: dict[str, str | list[str]] = {
        "Content-Type": JSON_TYPE,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        **(headers or {}),
    }
    return Response(body=json.dumps(body), status_code=status, headers=sent)


# What each failure looks like as a page: template, heading.
_ERROR_PAGES = {
    404: ("waiver/404.html", "We can't find this trip"),
    410: ("waiver/410.html", "This trip is closed for signing"),
    413: ("waiver/error.html", "That was too much to send"),
    415: ("waiver/error.html", "We couldn't read that form"),
    429: ("waiver/error.html", "Too many tries from your connection"),
}
# Failures that share a status with others but need their own page, by code.
_ERROR_PAGES_BY_CODE = {
    "trip_full": ("waiver/full.html", "Please see the crew"),
}


def error_answer(error: ApiError, *, as_json: bool, **context: Any) -> Response:
    """An ApiError as JSON {"code","message","field"} or as a page that says what happened."""
    headers = {"Vary": "Accept", **error.headers}
    if as_json:
        return json_answer(error.body(), status=error.status, headers=headers)
    template, heading = _ERROR_PAGES_BY_CODE.get(error.code) or _ERROR_PAGES.get(
        error.status, ("waiver/error.html", "Something went wrong")
    )
    if error.status >= 500:
        heading = "Something went wrong on our side"
    return page(
        template,
        status=error.status,
        headers=headers,
        heading=heading,
        message=error.message,
        status_code=error.status,
        retry_after=error.headers.get("Retry-After"),
        **{"trip": None, **context},
    )


def answer(
    request: Incoming,
    produce: Callable[[], Response],
    *,
    context_of: Callable[[ApiError], dict[str, Any]] | None = None,
) -> Response:
    """Run a page route: a client's mistake becomes its page (or JSON), ours a 503/500 page.

    `context_of` adds what an error's page shows beyond its message (e.g. the trip).
    """
    try:
        return produce()
    except ApiError as error:
        extra = context_of(error) if context_of else {}
        return error_answer(error, as_json=request.wants_json, **extra)
    except Exception as exc:
        failure = aws.api_error(exc)
        logs.exception("page failed", exc, status=failure.status)
        return error_answer(failure, as_json=request.wants_json)
