"""Spiders: one generic `SourceSpider` reads any source definition's lists."""

from crawler.spiders.source import SourceSpider

__all__ = ["SourceSpider"]
