"""Targets and deadlines a policy sets: "到2025年，三级医院电子病历系统应用水平平均达到4级以上".

A sentence is a target when it names a year as a horizon (到2025年, 2025年底前) and a
level reached by then (a number with its unit, or 全覆盖 / 建成 / 完成); the measure is
what lies between the two. Pure; the indexer stores what it finds on the policy record.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from hitwatch.policies.names import alternation, vocabulary

__all__ = ["Target", "find_targets"]

_SENTENCE = re.compile(r"[^。；;！!？?\n]+")
_VERB = r"(?:平均)?(?:达到|不低于|不少于|超过|提高到|提升至|提升到|降至|降低到|控制在|力争达到)"
# A number with its unit (a verb may come before it), or a grade in words after a verb:
# "达到四级甲等以上" is a level, the "三级" of "三级医院" is not.
_LEVEL = re.compile(
    rf"(?:{_VERB}\s*)?"
    r"(\d+(?:\.\d+)?\s*(?:%|‰|个百分点|级以上|级|家以上|家|个以上|个|万人|万家|万|亿元|亿|倍|天|小时|分钟)"
    r"(?:以上|以内|左右)?)"
    rf"|{_VERB}\s*([一二三四五六七八九十]+级(?:甲等|乙等)?(?:以上)?)"
)
_DONE = re.compile(r"(全覆盖|全面覆盖|全部覆盖|基本覆盖|全面建成|基本建成|建成|全面完成|完成|实现)")
_MAX_SENTENCE = 200


@dataclass(frozen=True)
class Target:
    year: int
    measure: str
    level: str
    sentence: str
    kind: str  # target (a quantified level) | deadline (something done by then)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _horizon() -> re.Pattern[str]:
    cues = alternation(vocabulary().target_year_cues)
    return re.compile(
        rf"(?:(?:{cues})\s*((?:20)\d{{2}})\s*年(?:底|末|年底)?(?:前)?"
        rf"|((?:20)\d{{2}})\s*年(?:底|末|\d{{1,2}}月(?:\d{{1,2}}日)?)?(?:前|以前|之前))"
    )


def find_targets(text: str) -> list[Target]:
    """Each sentence of `text` that sets a target or a deadline, in order."""
    horizon = _horizon()
    targets: list[Target] = []
    for sentence_match in _SENTENCE.finditer(unicodedata.normalize("NFKC", text)):
        sentence = sentence_match.group().strip()
        if len(sentence) > _MAX_SENTENCE:
            continue
        year_match = horizon.search(sentence)
        if not year_match:
            continue
        year = int(year_match.group(1) or year_match.group(2))
        rest = sentence[year_match.end() :].lstrip("，,、： ")
        level_match = next(
            (m for m in _LEVEL.finditer(rest) if rest[: m.start()].strip("，,、 ")), None
        )
        if level_match:
            measure = rest[: level_match.start()].strip("，,、 ")
            level = (level_match.group(1) or level_match.group(2)).strip()
            targets.append(Target(year, measure[:80], level, sentence, "target"))
            continue
        done = _DONE.search(rest)
        if done and rest[: done.start()].strip("，,、 "):
            measure = rest[: done.start()].strip("，,、 ")
            targets.append(
                Target(year, measure[:80], rest[done.start() :][:40], sentence, "deadline")
            )
    return targets
