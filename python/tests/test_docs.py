"""The documentation covers what exists: every subcommand, every pass and every Python call has
its page, and the troubleshooting page shows today's messages."""

import os
import re
import subprocess
import sys

import dinfer
from conftest import BUILD, ROOT

DOCS = os.path.join(ROOT, "docs")


def read(name):
    with open(os.path.join(DOCS, name)) as f:
        return f.read()


def test_every_subcommand_has_its_section_in_the_cli_reference():
    cli = read("cli.md")
    missing = [c for c in dinfer.command_names() if f"## `dinfer {c}`" not in cli]
    assert not missing, f"docs/cli.md lacks a section for: {missing}"


def test_every_pass_has_its_reference_and_a_hand_written_page():
    help_text = subprocess.run([os.path.join(BUILD, "bin", "dinfer-opt"), "--help"], capture_output=True,
                               text=True, check=True).stdout
    passes_text, _, pipelines_text = help_text.partition("Pass Pipelines:")
    passes = sorted(set(re.findall(r"^\s+--((?:dist|nn)-[a-z-]+)\s", passes_text, re.M)))
    # Pipelines have no ODS entry: a hand-written page is their reference.
    pipelines = sorted(set(re.findall(r"^      --((?:dist|nn)-[a-z-]+)\s", pipelines_text, re.M)))
    assert len(passes) >= 10, passes
    assert "dist-inference-pipeline" in pipelines, pipelines
    generated = read(os.path.join("generated", "DinferPasses.md"))
    written = "".join(read(name) for name in ("cli.md", "sharding.md", "export.md", "dialects.md"))
    no_reference = [p for p in passes if f"### `-{p}`" not in generated]
    no_page = [p for p in passes + pipelines if f"--{p}" not in written]
    assert not no_reference, f"docs/generated/DinferPasses.md lacks: {no_reference} (run scripts/update-docs.sh)"
    assert not no_page, f"no hand-written page mentions: {no_page}"


def test_every_python_call_is_in_the_python_reference():
    page = read("python.md")
    missing = [name for name in dinfer.__all__ if not re.search(r"[`.]" + name + r"\b", page)]
    assert not missing, f"docs/python.md lacks: {missing}"


def test_the_user_guide_names_every_step_and_links_the_references():
    guide = read("user-guide.md")
    for call in ("infer_predict_layout", "load_distributed_checkpoint", "predict", "export", "dinfer layout",
                 "dinfer reshard", "dinfer export", "dinfer run"):
        assert call in guide, call
    for page in re.findall(r"\]\(([a-z-]+\.md)\)", guide):
        assert os.path.isfile(os.path.join(DOCS, page)), page


def test_troubleshooting_shows_todays_messages():
    result = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "update-troubleshooting.py"), "--build",
                             BUILD, "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + result.stdout
