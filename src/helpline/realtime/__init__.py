"""Realtime frames to operators' websockets: a relay with replay, fanned out in-process or through Redis."""
