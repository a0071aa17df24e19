"""docs/agents.md's worked example (an agent file and its test) runs as written: both blocks are
taken from the document and the example's test is run in a subprocess."""

import re
import subprocess
import sys
from pathlib import Path

import coffre

DOC = Path(coffre.__file__).resolve().parents[2] / "docs" / "agents.md"
MODULE = "coffre.agents.providers.example_energy"


def example(path: str) -> str:
    match = re.search(
        rf"<!-- example: {re.escape(path)} -->\n```python\n(.*?)```", DOC.read_text(), re.DOTALL
    )
    assert match, f"docs/agents.md lost its example {path}"
    return match.group(1)


def test_the_worked_example_of_docs_agents_md_passes_its_own_test(tmp_path):
    agent = example("src/coffre/agents/providers/example_energy.py")
    test = example("src/coffre/agents/providers/tests/test_example_energy.py")
    assert f"from {MODULE} import" in test
    (tmp_path / "example_energy.py").write_text(agent)
    (tmp_path / "test_example_energy.py").write_text(test.replace(MODULE, "example_energy"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            "test_example_energy.py",
        ],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
