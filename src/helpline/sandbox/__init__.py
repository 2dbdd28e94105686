"""Local fakes of providers and a customer simulator: used by the demo and tests, never by production paths."""
