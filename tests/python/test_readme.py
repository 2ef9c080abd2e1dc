"""Every ```python block of README.md announced by '<!-- snippet: NAME python -->' runs as
written, twice in a row (a ring or blob it creates must not make the second run fail)."""
import os
import re
import subprocess

import pytest

import stella

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")
BLOCK = re.compile(r"<!-- snippet: ([a-z0-9_]+) python -->\n```python\n(.*?)```", re.S)
SEGMENTS = ("PyLogBuffer", "PySharedData")  # what the README's blocks create


def snippets():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    found = BLOCK.findall(text)
    assert len(found) == text.count("```python"), "a ```python block without its snippet line"
    return found


@pytest.mark.parametrize("name,code", snippets(), ids=[n for n, _ in snippets()])
def test_readme_python_block(name, code, python):
    for segment in SEGMENTS:
        stella.MultiWriterCircularBuffer.remove(segment)
        stella.SharedMemory.remove(segment)
    try:
        for run in (1, 2):
            done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, f"README block {name}, run {run}:\n{done.stdout}{done.stderr}"
    finally:
        for segment in SEGMENTS:
            stella.MultiWriterCircularBuffer.remove(segment)
            stella.SharedMemory.remove(segment)
