"""The digest: the publish end of crawl -> classify -> index -> publish.

Pure building (select the relevant stories of a period, apply the editor's changes) and
rendering (the bulletin's text, Markdown, HTML page and e-mail, Word, Atom) shared by the
web app, which edits and publishes issues, and whichever service mails them. `workflow`
keeps issues in the store of record; `mail` composes messages; `delivery` holds the
subscriptions and the one place that sends (through a `MailTransport`).
"""

from hitwatch.digest.build import (
    Digest,
    DigestItem,
    Section,
    digest_from_settings,
    month_period,
    parse_sections,
    period_word,
    select_items,
    week_period,
)
from hitwatch.digest.render import (
    check_invariants,
    render_atom,
    render_email_html,
    render_html,
    render_markdown,
    render_text,
)

__all__ = [
    "Digest",
    "DigestItem",
    "Section",
    "check_invariants",
    "digest_from_settings",
    "month_period",
    "parse_sections",
    "period_word",
    "render_atom",
    "render_email_html",
    "render_html",
    "render_markdown",
    "render_text",
    "select_items",
    "week_period",
]
