"""`python -m helpline …`: the same as the `helpline` command (used to start worker child processes)."""

from helpline.cli import main

main()
