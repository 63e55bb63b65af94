"""Every ```python block of the README runs as written (in a temporary folder).

Blocks fenced ```py need what a test machine lacks (a cluster, a GPU, a large CSV) and are
illustrations; they use only names that the tested blocks and tests/scale exercise.
"""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_examples_and_the_two_command_quick_start():
    text = README.read_text(encoding="utf-8")
    quick = re.search(r"## Quick start\s+```bash\n(.*?)```", text, re.S)
    assert quick is not None
    lines = [ln for ln in quick.group(1).splitlines() if ln.strip()]
    assert len(lines) == 2 and "qed tour" in lines[0] and "pytest" in lines[1]
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
