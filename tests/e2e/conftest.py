"""End-to-end fixtures: the integration tests' real worker processes."""

from tests.integration.conftest import workers

__all__ = ["workers"]
