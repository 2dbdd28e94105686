"""Summarise py-spy collapsed stacks (`--profile x.txt`): inclusive share of samples per frame or file.

python -m bench.ingest.profile_summary profile.txt [--top 40] [--match helpline/]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r":\d+\)$")


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            # Drop line numbers so one function is one frame.
            stacks.append(([_LINE.sub(")", f) for f in stack.split(";")], int(count)))
    return stacks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", default="", help="only frames containing this text")
    args = parser.parse_args()
    stacks = load(args.path)
    total = sum(c for _, c in stacks)
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, count in stacks:
        for frame in set(frames):
            if args.match in frame:
                inclusive[frame] += count
        own[frames[-1]] += count
    print(f"{total} samples")
    print("-- inclusive --")
    for frame, count in inclusive.most_common(args.top):
        print(f"{100 * count / total:6.1f}%  {frame}")
    print("-- self --")
    for frame, count in own.most_common(min(args.top, 25)):
        print(f"{100 * count / total:6.1f}%  {frame}")


if __name__ == "__main__":
    main()
