"""Company profiles (brands) and the events they run."""
