"""Policies as first-class things (index -> publish): a record per stored 政策文件, the
citations between documents, the links resolved from them (解读, implementations, news,
repeals and revisions), a policy's status and the targets and deadlines it sets.

The indexer writes records and citations with each article (`record_document`); the web
app and the evaluation read links (`links_to`, `links_from`) and status.
"""

from hitwatch.policies.citations import KINDS, Citation, citations_of, forwarded_names
from hitwatch.policies.links import (
    IN_FORCE,
    REPEALED,
    REVISED,
    Link,
    PolicyStatus,
    PolicyView,
    affected_policies,
    choose_target,
    links_from,
    links_to,
    national_implementations,
    policy_status,
    policy_statuses,
    policy_views,
    relinked_documents,
)
from hitwatch.policies.names import (
    LEVELS,
    edition_of,
    issuer_level,
    level_rank,
    normalize_doc_number,
    policy_key,
    policy_name,
)
from hitwatch.policies.pages import (
    Deadline,
    LinkedDocument,
    PolicyPage,
    list_policies,
    policy_page,
    upcoming_deadlines,
)
from hitwatch.policies.records import (
    POLICY_TYPE,
    document_issuer,
    province_of,
    record_document,
    record_documents,
)
from hitwatch.policies.targets import Target, find_targets

__all__ = [
    "IN_FORCE",
    "KINDS",
    "LEVELS",
    "POLICY_TYPE",
    "REPEALED",
    "REVISED",
    "Citation",
    "Deadline",
    "Link",
    "LinkedDocument",
    "PolicyPage",
    "PolicyStatus",
    "PolicyView",
    "Target",
    "affected_policies",
    "choose_target",
    "citations_of",
    "document_issuer",
    "edition_of",
    "find_targets",
    "forwarded_names",
    "issuer_level",
    "level_rank",
    "links_from",
    "links_to",
    "list_policies",
    "national_implementations",
    "normalize_doc_number",
    "policy_key",
    "policy_name",
    "policy_page",
    "policy_status",
    "policy_statuses",
    "policy_views",
    "province_of",
    "record_document",
    "record_documents",
    "relinked_documents",
    "upcoming_deadlines",
]
