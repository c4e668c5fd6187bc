"""Channels: group robots and webhooks that alerts post to (crawl -> classify -> index ->
**alert**), next to e-mail.

One message in each platform's own format (`formats`: 企业微信 markdown, 钉钉 markdown
with its signature, 飞书 interactive card with its signature, a generic signed JSON
webhook), sent over HTTP behind the fetch guard (`post`), from channels kept in the store
with their URL and secret encrypted (`registry`, `vault`).
"""

from hitwatch.channels.formats import (
    KINDS,
    ChannelItem,
    ChannelMessage,
    PreparedPost,
    dingtalk_sign,
    feishu_sign,
    prepare_post,
    render_markdown,
    webhook_signature,
)
from hitwatch.channels.notice import paused_message
from hitwatch.channels.post import HttpPoster, Poster, PostResult
from hitwatch.channels.registry import (
    ChannelError,
    ChannelTarget,
    add_channel,
    channels_of,
    check_channel_url,
    delete_channel,
    post_to_channel,
    record_attempt,
    record_outcome,
    resume_channel,
)
from hitwatch.channels.vault import Vault

__all__ = [
    "KINDS",
    "ChannelError",
    "ChannelItem",
    "ChannelMessage",
    "ChannelTarget",
    "HttpPoster",
    "PostResult",
    "Poster",
    "PreparedPost",
    "Vault",
    "add_channel",
    "channels_of",
    "check_channel_url",
    "delete_channel",
    "dingtalk_sign",
    "feishu_sign",
    "paused_message",
    "post_to_channel",
    "prepare_post",
    "record_attempt",
    "record_outcome",
    "render_markdown",
    "resume_channel",
    "webhook_signature",
]
