"""The `mockserver` fixture's methods, used directly in this suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import MESSAGES, openai_client
from mockserver import MockServer, ScenarioErrors, ScenarioNotFound

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLE = Path(__file__).resolve().parent / "test_readme_example.py"


def test_add_from_a_path_text_or_mapping(mockserver: MockServer, tmp_path: Path) -> None:
    (tmp_path / "on-disk.yaml").write_text("stream: [{text: from disk}]\n")
    assert mockserver.add(tmp_path / "on-disk.yaml") == "on-disk"
    assert mockserver.add(str(tmp_path / "on-disk.yaml")) == "on-disk"  # replaces, same name
    assert mockserver.add("stream: [{text: unnamed}]") == "added-3"
    assert mockserver.add({"name": "m", "stream": [{"text": "mapped"}]}) == "m"
    for name, text in [("on-disk", "from disk"), ("added-3", "unnamed"), ("m", "mapped")]:
        reply = openai_client(mockserver, name).chat.completions.create(model="x", messages=MESSAGES)
        assert reply.choices[0].message.content == text


def test_bad_additions_raise(mockserver: MockServer) -> None:
    with pytest.raises(ScenarioErrors, match=r"<added scenario>:1: stream\[0\]: unknown step 'dne'"):
        mockserver.add("stream: [dne]")
    with pytest.raises(ScenarioNotFound, match="no scenario named 'ghost'"):
        mockserver.use("ghost")


@pytest.mark.mockserver(time_scale=0)
def test_marker_sets_the_time_scale(mockserver: MockServer) -> None:
    name = mockserver.add({"timing": {"first": "5s"}, "stream": [{"text": "instant"}]})
    reply = openai_client(mockserver, name, timeout=2).chat.completions.create(model="x", messages=MESSAGES)
    assert reply.choices[0].message.content == "instant"


def test_readme_pytest_example_is_the_tested_file() -> None:
    block = README.read_text().split("<!-- pytest-example -->\n```python\n", 1)[1].split("```", 1)[0]
    assert block == EXAMPLE.read_text()


def test_readme_agent_loop_example_is_the_tested_file() -> None:
    block = README.read_text().split("<!-- agent-loop-example -->\n```python\n", 1)[1].split("```", 1)[0]
    assert block == (Path(__file__).parent / "test_readme_agent_loop.py").read_text()


def test_readme_verdicts_example_is_the_tested_file() -> None:
    block = README.read_text().split("<!-- verdicts-example -->\n```python\n", 1)[1].split("```", 1)[0]
    assert block == (Path(__file__).parent / "test_readme_verdicts.py").read_text()
