"""Privacy: erasure of a person's data, provider data-deletion callbacks, and the public policy pages."""
