"""The mirror site: an offline Flask imitation of the watched sites for demo mode and tests."""

from crawler.mirror.app import MirrorConfig, create_app
from crawler.mirror.mapping import mirror_url

__all__ = ["MirrorConfig", "create_app", "mirror_url"]
