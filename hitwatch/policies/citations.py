"""The documents a text names, each with why: 《name》 or a 发文字号, its cue and position.

Pure functions over one document's title and body. What a citation *means* depends on
the citing document (`citations_of`): a provincial 政策文件 that follows "贯彻落实《X》"
implements X; an official 解读 interprets the policy its title names; a news report
names the policies it quotes; "《X》同时废止" repeals X and "对《X》进行了修订" revises it.
Whether X is a stored policy, and of a higher level, is decided when links are resolved
(`hitwatch.policies.links`), so a policy arriving after its implementation still links.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from hitwatch.policies.names import (
    alternation,
    normalize_doc_number,
    policy_key,
    policy_name,
    vocabulary,
)

__all__ = ["KINDS", "Citation", "citations_of", "find_citations", "forwarded_names"]

# What a link says, strongest first: one link per (document, policy) keeps the strongest.
KINDS = ("repeals", "revises", "interprets", "implements", "cites", "names")

_NAME = re.compile(r"[《〈]([^《》〈〉\n]{2,120})[》〉]")
# A 发文字号 written after a name, in brackets: 《X》（国办发〔2018〕26号）.
_DOC_NUMBER = (
    r"[\u4e00-\u9fff]{1,16}\s*[\[(【〔［（]\s*(?:19|20)\d{2}\s*[\])】〕］）]\s*第?\s*\d{1,5}\s*号"
    r"|[\u4e00-\u9fff]{1,16}令\s*[(（]?\s*第\s*\d{1,5}\s*号"
)
_NUMBER_AFTER = re.compile(rf"\s*[(（]\s*({_DOC_NUMBER})\s*[)）]")
_BARE_NUMBER = re.compile(rf"({_DOC_NUMBER})(?:文件)?")
_CLAUSE_END = re.compile(r"[。；;！!？?\n，,：:]")
# "现将《A》、《B》印发给你们": the documents a notice itself carries (its own names).
_FORWARDED = re.compile(
    r"现将((?:[^。；\n]{0,400}?))(?:印发|发布|公布|予以公布|予以印发)(?:给你们|给你单位|如下)?"
)
_CUE_WINDOW = 40
_AFTER_WINDOW = 24


@dataclass(frozen=True)
class Citation:
    """One document named by another: the name as written, or only its 发文字号."""

    kind: str
    name: str
    key: str
    doc_number: str
    field: str  # title | body
    position: int  # character offset of 《 (or of the 发文字号) in that field
    cue: str  # the words that gave the kind: 贯彻落实, 同时废止, 解读 ... ("" for none)
    quote: str  # the clause around it, as evidence

    @property
    def reason(self) -> str:
        named = f"《{self.name}》" if self.name else self.doc_number
        where = "标题" if self.field == "title" else "正文"
        cue = f"“{self.cue}”" if self.cue else "提及"
        return f"{where}第{self.position + 1}字：{cue} {named}"


@dataclass(frozen=True)
class _Found:
    name: str
    doc_number: str
    start: int
    end: int
    before: str  # the clause before it, back to the last clause end
    after: str  # what follows, up to the clause end


def _clause_before(text: str, start: int) -> str:
    window = text[max(0, start - _CUE_WINDOW) : start]
    ends = list(_CLAUSE_END.finditer(window))
    return window[ends[-1].end() :] if ends else window


def _clause_after(text: str, end: int) -> str:
    window = text[end : end + _AFTER_WINDOW]
    stop = re.search(r"[。；;！!？?\n]", window)
    return window[: stop.start()] if stop else window


def find_citations(text: str) -> list[_Found]:
    """Every 《name》 in `text` (with a bracketed 发文字号 after it), and every bare
    发文字号 preceded by a cue ("贯彻落实国办发〔2018〕26号文件精神")."""
    found: list[_Found] = []
    covered: list[tuple[int, int]] = []
    for match in _NAME.finditer(text):
        end = match.end()
        number = ""
        after_number = _NUMBER_AFTER.match(text, end)
        if after_number:
            number = normalize_doc_number(after_number.group(1))
            end = after_number.end()
        found.append(
            _Found(
                match.group(1).strip(),
                number,
                match.start(),
                end,
                _clause_before(text, match.start()),
                _clause_after(text, end),
            )
        )
        covered.append((match.start(), end))
    cues = alternation(vocabulary().implements_cues)
    for match in re.finditer(rf"(?:{cues})\s*({_DOC_NUMBER})", text):
        start = match.start(1)
        if any(a <= start < b for a, b in covered):
            continue
        number = normalize_doc_number(match.group(1))
        found.append(_Found("", number, start, match.end(), _clause_before(text, start), ""))
    found.sort(key=lambda f: f.start)
    return found


def _forwarded_spans(body: str) -> list[tuple[int, int]]:
    return [(m.start(1), m.end(1)) for m in _FORWARDED.finditer(body)]


def forwarded_names(body: str) -> list[str]:
    """The names of the documents a notice carries ("现将《A》、《B》印发给你们")."""
    names = []
    for start, end in _forwarded_spans(body):
        names += [m.group(1).strip() for m in _NAME.finditer(body, start, end)]
    return [unicodedata.normalize("NFKC", n) for n in names]


def _cue(found: _Found, words: tuple[str, ...]) -> str:
    for word in words:  # longest first
        if word in found.before:
            return word
    return ""


def _change_cue(found: _Found) -> tuple[str, str]:
    words = vocabulary()
    before = found.before.rstrip()
    after = found.after.lstrip()
    for word in words.repeal_after:
        if after.startswith(word) or (
            after.startswith(("同时", "即行", "予以", "一并")) and word in after[:8]
        ):
            return "repeals", word
    if before.endswith(words.revise_before) and not before.endswith(
        ("新修订的", "修订后的", "新修订")
    ):
        return "revises", next(w for w in words.revise_before if before.endswith(w))
    for word in words.revise_after:
        if after.startswith(word):
            return "revises", word
    return "", ""


def _citation(found: _Found, kind: str, cue: str, field: str, text: str) -> Citation:
    name = unicodedata.normalize("NFKC", found.name)
    quote_start = max(0, found.start - len(found.before))
    quote = text[quote_start : found.end + len(found.after)].strip()
    return Citation(
        kind=kind,
        name=name,
        key=policy_key(name) if name else "",
        doc_number=found.doc_number,
        field=field,
        position=found.start,
        cue=cue,
        quote=quote[:160],
    )


def citations_of(title: str, body: str, *, doc_type: str, level: str) -> list[Citation]:
    """The documents this one names, each with its kind.

    `doc_type` is the classifier's (政策文件, 政策解读, 新闻报道 ...); `level` the
    document's own (national, provincial, municipal or "" when not a policy). A
    provincial or municipal 政策文件 *implements* what it cites after an implementation
    cue; a national one *cites*. Whether the cited policy sits above it is checked when
    the link is resolved.
    """
    words = vocabulary()
    citations: list[Citation] = []
    own_key = policy_key(policy_name(title)) if title else ""
    interpreted = False
    if doc_type == "政策解读":
        name = policy_name(title, interpretation=True)
        if name and name != unicodedata.normalize("NFKC", title).strip():
            cue = next((w for w in words.interpretation_words if w in title), "")
            start = max(title.find(name), 0)
            citations.append(
                Citation(
                    kind="interprets",
                    name=name,
                    key=policy_key(name),
                    doc_number="",
                    field="title",
                    position=start,
                    cue=cue,
                    quote=title[:160],
                )
            )
            interpreted = True
    own = _forwarded_spans(body) if doc_type == "政策文件" else []
    for field, text in (("title", title), ("body", body)):
        for found in find_citations(text):
            key = policy_key(found.name) if found.name else ""
            if key and key == own_key:
                continue  # the document naming itself (an order promulgating its text)
            if field == "body" and any(a <= found.start < b for a, b in own):
                continue  # a document this notice carries is this notice
            change, change_cue = _change_cue(found) if doc_type == "政策文件" else ("", "")
            if change:
                citations.append(_citation(found, change, change_cue, field, text))
                continue
            if doc_type == "政策解读":
                if field == "title" and interpreted:
                    continue
                if not interpreted:
                    cue = next((w for w in words.interpretation_words if w in title), "")
                    citations.append(_citation(found, "interprets", cue, field, text))
                    interpreted = True
                    continue
                citations.append(
                    _citation(found, "cites", _cue(found, words.implements_cues), field, text)
                )
            elif doc_type == "政策文件":
                cue = _cue(found, words.implements_cues)
                if field == "title" and not cue and found.name and "实施" in title:
                    cue = "实施"  # 关于印发《XX省贯彻〈X〉实施方案》的通知
                implements = bool(cue) and level in ("provincial", "municipal")
                citations.append(
                    _citation(found, "implements" if implements else "cites", cue, field, text)
                )
            elif found.name:
                citations.append(_citation(found, "names", "", field, text))
    return citations
