"""Digest pages: the editor's (`editor`: archive, issues, drafts, publishing, downloads,
Atom) and the subscribers' (`subscriptions`: subscribe, confirm, preferences, unsubscribe),
two blueprints sharing this package's templates."""
