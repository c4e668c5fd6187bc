"""Topic codes and their Chinese names, read from the taxonomy data file beside this module.

The classifier assigns topic codes (A, G, N ...); readers know the topics by name
(医保信息化与支付改革). The search language accepts either and the search page shows
names. The taxonomy (`hitwatch/taxonomy.yaml`) lives in the core, which reads the codes
and names - and only those - here; the classifier reads the whole of it (rules, relevance
terms, document types) through `TAXONOMY_FILE`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from hitwatch.text import normalize

__all__ = ["TAXONOMY_FILE", "topic_codes", "topic_names"]

TAXONOMY_FILE = Path(__file__).with_name("taxonomy.yaml")


@lru_cache(maxsize=4)
def topic_names(path: Path = TAXONOMY_FILE) -> dict[str, str]:
    """code -> name of every category, in the taxonomy's order ({} when the file is absent)."""
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    return {str(entry["code"]): str(entry["name"]) for entry in data.get("categories", [])}


def _key(text: str) -> str:
    """How names compare: normalised, without quotes or spaces (a query cannot hold them)."""
    return "".join(normalize(text).replace('"', "").replace("“", "").replace("”", "").split())


def topic_codes(value: str, names: dict[str, str] | None = None) -> tuple[str, ...]:
    """The codes a `topic:` value means: a code (any case), a whole name, or part of names.

    医保信息化与支付改革 and g mean G; 医保信息化 means G too; AI means every topic whose
    name holds AI. A value that is none of these means no topic: ().
    """
    names = topic_names() if names is None else names
    wanted = _key(value)
    if not wanted:
        return ()
    by_code = [code for code in names if normalize(code) == wanted]
    if by_code:
        return tuple(by_code)
    keys = {code: _key(name) for code, name in names.items()}
    exact = [code for code, key in keys.items() if key == wanted]
    if exact:
        return tuple(exact)
    return tuple(code for code, key in keys.items() if wanted in key)
