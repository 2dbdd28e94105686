"""Prometheus metrics of one process: requests, message counters, websocket clients, outbox health."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from helpline.platform.outbox import OutboxStats


class Metrics:
    """One registry per runtime, so several apps in one process (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "helpline_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "helpline_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.inbound_messages = Counter(
            "helpline_inbound_messages_total",
            "Customer messages stored",
            ["channel_kind"],
            registry=self.registry,
        )
        self.outbound_messages = Counter(
            "helpline_outbound_messages_total",
            "Replies by delivery outcome",
            ["channel_kind", "outcome"],
            registry=self.registry,
        )
        self.webhook_rejections = Counter(
            "helpline_webhook_rejections_total",
            "Inbound webhooks refused",
            ["channel_kind", "reason"],
            registry=self.registry,
        )
        self.ingest_failures = Counter(
            "helpline_ingest_failures_total",
            "Inbound events that could not be stored at once and were parked for retry (see /api/v1/ingest/failures)",
            ["channel_kind"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "helpline_rate_limited_total",
            "Requests or messages over a rate limit (limit: inbound-channel, inbound-contact, bot-reply, …)",
            ["limit"],
            registry=self.registry,
        )
        self.websocket_clients = Gauge(
            "helpline_websocket_clients", "Connected operator websockets", registry=self.registry
        )
        self.outbox_depth = Gauge("helpline_outbox_pending", "Outbox rows waiting", registry=self.registry)
        self.outbox_dead = Gauge("helpline_outbox_dead", "Outbox rows that exhausted retries", registry=self.registry)
        self.outbox_age = Gauge(
            "helpline_outbox_oldest_pending_seconds",
            "Age of the oldest waiting outbox row",
            registry=self.registry,
        )

    def record_outbox(self, stats: OutboxStats) -> None:
        self.outbox_depth.set(stats.pending)
        self.outbox_dead.set(stats.dead)
        self.outbox_age.set(stats.oldest_pending_age_seconds)
