"""The crawler service: the first stage of crawl -> classify -> index -> publish/alert.

Source definitions (`hitwatch/sources/*.yaml`) say where each site lists its articles;
one generic Scrapy spider reads those lists, fetches new article pages (sharing its
request queue and dupefilter in Redis with any other crawler process) and hands each page's
raw bytes to the `classify` queue as a `CrawledItem`. It never extracts articles itself.
Demo mode crawls `crawler.mirror`, an offline imitation of the real sites.
"""
