"""Jinja2 templates in chalicelib/templates/: HTML autoescaped, plain text not.

Jinja2 is imported on first render, so routes that never render HTML or email
do not pay for it at cold start.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATE_DIR = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        # Escaping follows the template's name: .html escaped, .txt (email text) not.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, **context: Any) -> str:
    """Render a template; names ending in .html are autoescaped, others (.txt) are not."""
    return _environment().get_template(name).render(**context)
