"""Benchmarks that drive a real `helpline serve` process over loopback."""
