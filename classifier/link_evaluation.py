"""`hitwatch eval links`: precision and recall of policy links on a labelled set.

`labels/links.yaml` holds real national policies and the real provincial and municipal
documents that implement them, their official interpretations and news reports, by
their public facts only (title, issuer, date, 发文字号, how a document names the one it
follows); `document_pages` writes each as a page in our own words, citing its policy
the way the facts say (贯彻落实《full title》（发文字号）, 根据《short title》, the 发文字号
alone, or in words no rule can resolve). Distractors name documents that are not
stored, or cite without implementing. Every page goes through the indexer's own write
path (`record_document`) into a temporary SQLite store, in a shuffled order (a policy
may arrive after its implementations), and the links read back (`links_from`) are
compared with the labelled ones: a link counts when source, policy and kind agree.

`links_split.json` puts each document once into the tuning or the test part
(stratified by the kind of its first labelled link, seed 21); rules are tuned on the
tuning part only.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import yaml

from hitwatch.messages import Attachment, ClassifiedDocument, PolicyMeta, stable_id
from hitwatch.policies import links_from, record_document
from hitwatch.store import open_database
from hitwatch.store.models import Article, Story

__all__ = [
    "LinkFacts",
    "LinkScores",
    "document_pages",
    "eval_links_command",
    "evaluate_links",
    "format_link_report",
    "load_link_facts",
    "load_link_split",
    "make_link_split",
    "save_link_split",
]

LABELS_DIR = Path(__file__).with_name("labels")
DEFAULT_LINKS = LABELS_DIR / "links.yaml"
SPLIT_FILE = "links_split.json"
SPLIT_SEED = 21
ORDER_SEED = 5


@dataclass(frozen=True)
class LinkFacts:
    """One document of the set: a policy others follow, or a document that links."""

    id: str
    title: str
    type: str  # 政策文件 | 政策解读 | 新闻报道
    issuer: str = ""
    date: str = ""
    docno: str = ""
    region: str = ""  # what an implementation calls its own place: 我省, 全市 ...
    cite: tuple[dict[str, str], ...] = ()  # how the page names the documents it follows
    links: tuple[tuple[str, str], ...] = ()  # gold: (policy id, kind)
    points: tuple[str, ...] = ()
    forwards: tuple[str, ...] = ()  # the documents a notice carries
    attached: bool = False  # the implementing text is an attachment of a short notice
    part: str = ""


def load_link_facts(path: Path = DEFAULT_LINKS) -> list[LinkFacts]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    facts = []
    for raw in data.get("documents") or []:
        fields: dict[str, Any] = dict(raw)
        fields["date"] = str(fields.get("date", "") or "")
        fields["docno"] = str(fields.get("docno") or "")
        fields["cite"] = tuple(dict(c) for c in fields.get("cite") or ())
        fields["links"] = tuple(
            (str(link["policy"]), str(link["kind"])) for link in fields.get("links") or ()
        )
        fields["points"] = tuple(str(p) for p in fields.get("points") or ())
        fields["forwards"] = tuple(str(p) for p in fields.get("forwards") or ())
        facts.append(LinkFacts(**fields))
    ids = [f.id for f in facts]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    if duplicates:
        raise ValueError(f"{path}: duplicate ids {duplicates}")
    known = set(ids)
    for fact in facts:
        for target, _kind in fact.links:
            if target not in known:
                raise ValueError(f"{path}: {fact.id} links to unknown {target}")
        for cite in fact.cite:
            if cite.get("policy") and cite["policy"] not in known:
                raise ValueError(f"{path}: {fact.id} cites unknown {cite['policy']}")
    return facts


def _short_title(title: str) -> str:
    about = title.find("关于")
    return title[about:] if about > 0 else title


def _name(fact: LinkFacts) -> str:
    """What a forwarding notice carries: X of 关于印发X的通知, else the title."""
    title = fact.title
    for head in ("关于印发", "关于发布", "关于公布"):
        start = title.find(head)
        if start >= 0 and title.endswith("的通知"):
            return title[start + len(head) : -3].strip("《》")
    return title


def _cited(policy: LinkFacts, form: str) -> str:
    """How a page writes the policy it follows."""
    number = f"（{policy.docno}）" if policy.docno else ""
    if form == "full":
        return f"《{policy.title}》{number}"
    if form == "short":
        return f"《{_short_title(policy.title)}》"
    if form == "name":
        return f"《{_name(policy)}》"
    if form == "name_number":
        return f"《{_name(policy)}》{number}"
    if form == "number":
        return f"{policy.docno}文件"
    raise ValueError(f"unknown citation form {form!r}")


def _date_line(date: str) -> str:
    parts = [p for p in date.split("-") if p]
    return "".join(f"{int(p)}{u}" for p, u in zip(parts, ("年", "月", "日"), strict=False))


def _citation_sentence(cite: dict[str, str], facts: dict[str, LinkFacts], region: str) -> str:
    cue = cite.get("cue", "贯彻落实")
    if cite.get("text"):
        return cite["text"]
    policy = facts[cite["policy"]]
    named = _cited(policy, cite.get("form", "full"))
    if cue == "plain":
        return f"本方案与{named}等文件提出的任务相衔接，相关工作统筹推进。"
    if cue == "repeal":
        return f"本文件自印发之日起施行，{named}同时废止。"
    if cue == "revise":
        return f"决定对{named}进行修订，修订后的文本一并印发。"
    tail = "精神" if cue in ("贯彻落实", "落实", "贯彻") else "要求"
    return f"为{cue}{named}{tail}，结合{region or '本地'}实际，制定本文件。"


def _page(fact: LinkFacts, facts: dict[str, LinkFacts]) -> tuple[str, str, list[str]]:
    """Title, body and attachments' text of one document, written from its facts."""
    points = [f"{'一二三四五六七八九十'[i % 10]}、{p}。" for i, p in enumerate(fact.points)]
    if fact.type == "政策解读":
        opening = [_citation_sentence(c, facts, fact.region) for c in fact.cite]
        body = [*opening, "一、出台背景", "为回应各方关切，现就文件主要内容解读如下。"]
        body += ["二、主要内容", *points, "三、下一步工作", "将加强宣传培训，指导各地抓好落实。"]
        return fact.title, "\n".join(body), []
    if fact.type == "新闻报道":
        opening = [_citation_sentence(c, facts, fact.region) for c in fact.cite]
        body = [*opening, *(p + "。" for p in fact.points)]
        body.append("业内人士表示，相关举措将推动医疗机构信息化建设提速。")
        return fact.title, "\n".join(body), []
    citations = [_citation_sentence(c, facts, fact.region) for c in fact.cite]
    if fact.forwards:
        carried = "、".join(f"《{name}》" for name in fact.forwards)
        citations.insert(0, f"现将{carried}印发给你们，请认真贯彻执行。")
    text = [*citations, *points, "各地各部门要加强组织领导，明确责任分工，确保各项任务落到实处。"]
    header = [fact.docno] if fact.docno else []
    signature = [fact.issuer.replace("、", " "), _date_line(fact.date)] if fact.issuer else []
    if fact.attached:
        short = [*header, f"现将《{_name(fact)}》印发给你们，请认真贯彻执行。", *signature]
        return fact.title, "\n".join(short), ["\n".join([_name(fact), *text])]
    return fact.title, "\n".join([*header, *text, *signature]), []


def document_pages(facts: list[LinkFacts]) -> list[ClassifiedDocument]:
    """Each fact as the classified document the indexer would receive."""
    by_id = {f.id: f for f in facts}
    documents = []
    for fact in facts:
        title, body, attachments = _page(fact, by_id)
        doc_id = stable_id(f"links:{fact.id}")
        published = None
        if fact.date.count("-") == 2:
            published = datetime.fromisoformat(fact.date).replace(tzinfo=UTC)
        policy = None
        if fact.type == "政策文件":
            policy = PolicyMeta(
                doc_number=fact.docno,
                issuer=fact.issuer,
                written_date=fact.date if fact.date.count("-") == 2 else "",
            )
        documents.append(
            ClassifiedDocument(
                doc_id=doc_id,
                url=f"https://example.org/links/{fact.id}",
                canonical_url=f"https://example.org/links/{fact.id}",
                source_id="links",
                source_name=fact.issuer or "媒体",
                source_kind="government" if fact.type != "新闻报道" else "media",
                title=title,
                published_at=published,
                body=body,
                attachments=[
                    Attachment(url=f"https://example.org/links/{fact.id}-{i}.docx", text=text)
                    for i, text in enumerate(attachments, 1)
                ],
                policy=policy,
                content_hash=doc_id,
                story_id=doc_id,
                doc_type=fact.type,
                fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
            )
        )
    return documents


@dataclass
class LinkScores:
    part: str
    documents: int = 0
    gold: int = 0
    found: int = 0
    correct: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [gold, found, correct]
    wrong: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 1.0


def _predicted(facts: list[LinkFacts], order_seed: int) -> set[tuple[str, str, str]]:
    documents = document_pages(facts)
    random.Random(order_seed).shuffle(documents)
    ids = {stable_id(f"links:{f.id}"): f.id for f in facts}
    with tempfile.TemporaryDirectory(prefix="hitwatch-links-") as folder:
        database = open_database(f"sqlite:///{folder}/links.db")
        try:
            database.migrate()
            for doc in documents:
                with database.session() as session:
                    session.add(
                        Story(
                            id=doc.story_id,
                            canonical_doc_id=doc.doc_id,
                            title=doc.title,
                            source_name=doc.source_name,
                        )
                    )
                    session.flush()
                    session.add(
                        Article(
                            id=doc.doc_id,
                            story_id=doc.story_id,
                            url=doc.url,
                            canonical_url=doc.canonical_url,
                            source_id=doc.source_id,
                            source_name=doc.source_name,
                            title=doc.title,
                            published_at=doc.published_at,
                            body=doc.body,
                            content_hash=doc.content_hash,
                            doc_type=doc.doc_type,
                            fetched_at=doc.fetched_at,
                        )
                    )
                    session.flush()
                    record_document(session, doc)
            with database.session() as session:
                links = links_from(session, ids)
        finally:
            database.dispose()
    return {(ids[link.source_id], ids[link.target_id], link.kind) for link in links}


def evaluate_links(
    facts: list[LinkFacts], split: dict[str, str], *, order_seed: int = ORDER_SEED
) -> dict[str, LinkScores]:
    """Scores per part ("test", "tune"); a link belongs to its source document's part."""
    predicted = _predicted(facts, order_seed)
    gold = {(f.id, target, kind) for f in facts for target, kind in f.links}
    scores = {part: LinkScores(part) for part in ("test", "tune")}
    for fact in facts:
        scores[split.get(fact.id, "tune")].documents += 1
    for link in gold | predicted:
        score = scores[split.get(link[0], "tune")]
        counts = score.by_kind.setdefault(link[2], [0, 0, 0])
        if link in gold:
            score.gold += 1
            counts[0] += 1
        if link in predicted:
            score.found += 1
            counts[1] += 1
        if link in gold and link in predicted:
            score.correct += 1
            counts[2] += 1
        elif link in predicted:
            score.wrong.append(f"{link[0]} -> {link[1]} ({link[2]})")
        else:
            score.missed.append(f"{link[0]} -> {link[1]} ({link[2]})")
    return scores


def _stratum(fact: LinkFacts) -> str:
    return f"{fact.type}:{fact.links[0][1] if fact.links else 'none'}"


def make_link_split(facts: list[LinkFacts], *, seed: int = SPLIT_SEED) -> dict[str, str]:
    """Each document once into "tune" or "test": per stratum shuffled with `seed`, then
    alternating, so both parts hold every kind of link and of distractor."""
    strata: dict[str, list[str]] = defaultdict(list)
    for fact in facts:
        strata[_stratum(fact)].append(fact.id)
    rng = random.Random(seed)
    split = {}
    for stratum in sorted(strata):
        members = sorted(strata[stratum])
        rng.shuffle(members)
        for index, member in enumerate(members):
            split[member] = "test" if index % 2 == 0 else "tune"
    return split


def load_link_split(labels_dir: Path = LABELS_DIR) -> dict[str, str]:
    data = json.loads((labels_dir / SPLIT_FILE).read_text(encoding="utf-8"))
    return {doc: part for part, docs in data["parts"].items() for doc in docs}


def save_link_split(split: dict[str, str], labels_dir: Path = LABELS_DIR) -> None:
    parts = {part: sorted(d for d, p in split.items() if p == part) for part in ("test", "tune")}
    text = json.dumps({"seed": SPLIT_SEED, "parts": parts}, ensure_ascii=False, indent=1)
    (labels_dir / SPLIT_FILE).write_text(text + "\n", encoding="utf-8")


def format_link_report(scores: dict[str, LinkScores], *, verbose: bool) -> str:
    lines = []
    for part in ("test", "tune"):
        score = scores[part]
        lines.append(
            f"{part} part: {score.documents} documents, {score.gold} labelled links, "
            f"{score.found} found, {score.correct} correct: precision {score.precision:.3f}, "
            f"recall {score.recall:.3f}"
        )
        for kind in sorted(score.by_kind):
            g, f, c = score.by_kind[kind]
            lines.append(f"  {kind:<11} labelled {g:>3}  found {f:>3}  correct {c:>3}")
        if verbose:
            lines += [f"  wrong:  {w}" for w in sorted(score.wrong)]
            lines += [f"  missed: {m}" for m in sorted(score.missed)]
    return "\n".join(lines)


@click.command("links")
@click.option("--verbose", is_flag=True, help="List every wrong and every missed link.")
def eval_links_command(verbose: bool) -> None:
    """Policy links on the labelled set: precision and recall, test part first."""
    facts = load_link_facts()
    scores = evaluate_links(facts, load_link_split())
    click.echo(format_link_report(scores, verbose=verbose))
