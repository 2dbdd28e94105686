"""Outbound HTTP in these tests goes to a scripted fake peer (see tests/platform/fake_peer.py)."""

from tests.platform.peer_fixtures import app, peer

__all__ = ["app", "peer"]
