"""What the README's shell blocks write into the working directory is git-ignored (issue 11), by anchored
patterns that ignore no file of the source tree."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: ``> file``, ``-o file``, ``--state file``, ``CHOPMARK_WALLET=file``: files a README command creates.
WRITES = re.compile(r"(?:>|-o|--state|CHOPMARK_WALLET=)\s*([A-Za-z0-9_.-]+\.[A-Za-z0-9]+)\b")

pytestmark = pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                                reason="needs git and the repository")


def shell_blocks() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return "\n".join(re.findall(r"```sh\n(.*?)```", text, flags=re.S))


def ignored(paths: list[str]) -> set[str]:
    done = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=ROOT, input="\n".join(paths),
                          capture_output=True, text=True, check=False)
    return set(done.stdout.split())


def test_every_file_a_readme_block_writes_is_ignored() -> None:
    written = sorted(set(WRITES.findall(shell_blocks())))
    assert {"issued.json", "merchant.cmw", "log.key", "old.txt", "monitor.json"} <= set(written)
    assert ignored(written) == set(written)


def test_no_file_of_the_source_tree_is_ignored() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert ignored(tracked.split()) == set()
    assert ignored(["tests/fixtures/issued.json", "docs/old.txt", "wallet/x.cmw"]) == set()  # anchored
