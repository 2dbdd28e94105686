"""Inbound ingest benchmark: signed API-channel webhooks in, `message.created` websocket frames out.

Run with `python -m bench.ingest --help`.
"""
