"""The demo's own sentences, from ``demo/catalog/<language>.toml`` (the trace's live in ``trace/catalog``).

Every sentence the demo prints is a catalog entry with named fields, so a translation is a file, not
a code change; ``zh.toml`` speaks the course's Chinese terms (see the course glossary).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from wirelab.trace import load_catalog


@cache
def sentences(language: str) -> Mapping[str, str]:
    return load_catalog(__package__, language)


def say(language: str, key: str, **fields: object) -> str:
    """The sentence ``key`` in ``language`` (English when that language lacks it), filled in."""
    template = sentences(language).get(key) or sentences("en").get(key)
    if template is None:
        raise KeyError(f"the demo catalog has no sentence {key!r}")
    return template.format(**fields)
