"""Provider compliance tooling: the Meta App Review doctor."""
