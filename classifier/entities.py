"""Entities (companies, products, hospitals, government bodies) and the region of a text.

Both come from operator-edited dictionaries (`entities.yaml`, `regions.yaml`) matched
with the same rules as the taxonomy (see `classifier.terms`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from classifier.taxonomy import DictionaryError
from classifier.terms import TermMatcher, normalize_text

__all__ = [
    "DEFAULT_ENTITIES",
    "DEFAULT_REGIONS",
    "ENTITY_KINDS",
    "EntityDictionary",
    "load_entities",
]

DEFAULT_ENTITIES = Path(__file__).with_name("entities.yaml")
DEFAULT_REGIONS = Path(__file__).with_name("regions.yaml")
ENTITY_KINDS = ("company", "product", "hospital", "government")

# A region is recorded when its mentions reach this weight (a title mention counts 3)
# and make at least this share of all region mentions: a national document listing
# many provinces has no single region.
_REGION_MIN_WEIGHT = 2
_REGION_MIN_SHARE = 0.5
_TITLE_WEIGHT = 3


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DictionaryError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise DictionaryError(f"{path}: expected a mapping at the top level")
    return data


@dataclass(frozen=True)
class _Place:
    province: str
    city: str


class EntityDictionary:
    """Finds entities and the region in text normalised with the taxonomy's aliases."""

    def __init__(
        self,
        names: Mapping[str, tuple[str, str]],
        places: Mapping[str, _Place],
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self._aliases = dict(aliases or {})
        self._names = {normalize_text(k, self._aliases): v for k, v in names.items()}
        self._places = {normalize_text(k, self._aliases): v for k, v in places.items()}
        self._entity_matcher = TermMatcher(self._names, self._aliases)
        self._place_matcher = TermMatcher(self._places, self._aliases)
        self._government = {
            variant: display
            for variant, (kind, display) in self._names.items()
            if kind == "government"
        }

    def entities(self, normalized: str) -> dict[str, list[str]]:
        """Display names by kind, in order of first mention."""
        found: dict[str, list[str]] = {kind: [] for kind in ENTITY_KINDS}
        for term in self._entity_matcher.find(normalized):
            kind, display = self._names[term]
            if kind in found and display not in found[kind]:
                found[kind].append(display)
        return found

    def region(self, normalized_title: str, normalized_body: str) -> str:
        """Official `省` or `省市` the text is about, or "" when it names none (or many)."""
        provinces: Counter[str] = Counter()
        cities: Counter[tuple[str, str]] = Counter()
        for text, weight in ((normalized_title, _TITLE_WEIGHT), (normalized_body, 1)):
            for term in self._place_matcher.find(text):
                place = self._places[term]
                provinces[place.province] += weight
                if place.city:
                    cities[(place.province, place.city)] += weight
        if not provinces:
            return ""
        province, weight = provinces.most_common(1)[0]
        if weight < _REGION_MIN_WEIGHT or weight < _REGION_MIN_SHARE * sum(provinces.values()):
            return ""
        in_province = [(n, c) for (p, c), n in cities.items() if p == province]
        if not in_province:
            return province
        return province + max(in_province)[1]

    def government_name(self, name: str) -> str:
        """The one display name of a government body, or `name` unchanged when unknown."""
        cleaned = normalize_text(name.strip(), self._aliases)
        return self._government.get(cleaned, cleaned)


def load_entities(
    entities_path: Path = DEFAULT_ENTITIES,
    regions_path: Path = DEFAULT_REGIONS,
    aliases: Mapping[str, str] | None = None,
) -> EntityDictionary:
    data = _read(entities_path)
    names: dict[str, tuple[str, str]] = {}
    for blocker in data.get("not_entities") or []:
        names[str(blocker)] = ("", "")
    for kind in ENTITY_KINDS:
        section = data.get(kind) or {}
        if not isinstance(section, dict):
            raise DictionaryError(f"{entities_path}: `{kind}` must map display names to variants")
        for display, variants in section.items():
            for variant in [display, *(variants or [])]:
                names[str(variant)] = (kind, str(display))
    return EntityDictionary(names, _load_places(regions_path), aliases)


def _load_places(path: Path) -> dict[str, _Place]:
    """Every spelling of a province, city or district -> the place it names."""
    regions = _read(path)
    ambiguous = {str(x) for x in regions.get("ambiguous") or []}
    places: dict[str, _Place] = {}

    def add(spellings: list[str], place: _Place) -> None:
        for spelling in spellings:
            if spelling not in ambiguous:
                places[spelling] = place

    for province, spec in (regions.get("provinces") or {}).items():
        spec = spec or {}
        if not isinstance(spec, dict):
            raise DictionaryError(f"{path}: {province} needs a mapping (short, cities)")
        name = str(province)
        add([name, *(str(s) for s in spec.get("short") or [])], _Place(name, ""))
        add([str(d) for d in spec.get("districts") or []], _Place(name, ""))
        cities = spec.get("cities") or {}
        if not isinstance(cities, dict):
            raise DictionaryError(f"{path}: {province} cities must map official names to spellings")
        for city, spellings in cities.items():
            add([str(city), *(str(s) for s in spellings or [])], _Place(name, str(city)))
    if not places:
        raise DictionaryError(f"{path}: needs a `provinces` mapping")
    return places
