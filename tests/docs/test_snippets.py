"""Every code block of README.md and docs/*.md, run or checked as written.

- python blocks run, page by page in a fresh process, each page's blocks in
  order in one namespace (as a reader pastes them into one session), from
  an empty working folder beside the shared data (`../shared/data/...`
  resolves as it does from the repository). They are slow (they build
  ResNet-50s, export, train for a few steps): `-m slow`, run in CI.
- bash blocks: `python examples/...` and `python benchmarks/...` commands
  are parsed by the script's own argument parser (every flag and value as
  written); `pip install` names extras that pyproject.toml defines;
  `python -m pytest` names paths and markers that exist. The commands
  themselves train for minutes to hours; the examples run end to end,
  with small budgets, in tests/examples.
- a block that starts `# not run in CI: <reason>` is listed here and must
  stay a short list.
"""

import json
import os
import re
import shlex
import subprocess
import sys

import pytest
import tomllib

from tests.data.shared import DATA
from tests.docs.markdown_blocks import NOT_RUN
from tests.docs.markdown_blocks import PAGES
from tests.docs.markdown_blocks import REPO
from tests.docs.markdown_blocks import all_blocks
from tests.docs.markdown_blocks import code_blocks
from tests.docs.markdown_blocks import shell_commands
from tests.docs.scripts import parse_script_arguments

EXTRAS = set(
    tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
)
MARKERS = {"slow", "release"}
ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")
SHELL_BLOCKS = all_blocks({"bash", "sh", "console"})
PYTHON_PAGES = [
    page
    for page in PAGES
    if any(b.language == "python" for b in code_blocks(page))
]
# Blocks that cannot run here, with the reason each shows its reader.
EXPECTED_NOT_RUN = 7

RUNNER = """
import json, sys, traceback
namespace = {"__name__": "__main__"}
for where, text in json.load(open(sys.argv[1])):
    print(f"== {where}", flush=True)
    try:
        exec(compile(text, where, "exec"), namespace)
    except BaseException:
        traceback.print_exc()
        sys.exit(f"the snippet at {where} failed")
"""


def test_pages_use_fenced_blocks_only():
    for page in PAGES:
        code_blocks(page)  # raises on an indented code block


def test_blocks_not_run_are_few_and_say_why():
    skipped = [
        b
        for b in all_blocks({"python", "bash", "sh", "console"})
        if b.not_run_reason is not None
    ]
    assert all(b.not_run_reason for b in skipped), [b.where for b in skipped]
    assert len(skipped) == EXPECTED_NOT_RUN, [
        (b.where, b.not_run_reason) for b in skipped
    ]


def check_command(command):
    tokens = shlex.split(command)
    while tokens and ENV_ASSIGNMENT.match(tokens[0]):
        tokens.pop(0)
    assert tokens, command
    if tokens[0] == "export":
        assert all(ENV_ASSIGNMENT.match(t) for t in tokens[1:]), command
    elif tokens[0] == "pip":
        assert tokens[1] == "install", command
        for target in tokens[2:]:
            match = re.fullmatch(r"\.?\.?/?\S*?\[([\w,-]+)\]", target)
            if match:
                unknown = set(match.group(1).split(",")) - EXTRAS
                assert not unknown, f"{command}: no extra {unknown}"
    elif tokens[:3] == ["python", "-m", "pytest"]:
        rest = tokens[3:]
        while rest:
            token = rest.pop(0)
            if token == "-m":
                words = rest.pop(0).split()
                assert all(
                    w in MARKERS or w in ("and", "or", "not") for w in words
                ), command
            elif token == "-n":
                assert rest.pop(0).isdigit(), command
            elif token == "-k":
                assert rest.pop(0), command  # a keyword expression
            elif token in ("-s", "-q", "-v"):
                continue
            else:
                assert (REPO / token).exists(), f"{command}: no {token}"
    elif tokens[0] == "python" and tokens[1].endswith(".py"):
        script = REPO / tokens[1]
        assert script.is_file(), f"{command}: no {tokens[1]}"
        if "parse_args(" in script.read_text():
            parse_script_arguments(script, tokens[2:])
        else:
            assert not tokens[2:], f"{command}: the script takes no arguments"
    else:
        raise AssertionError(
            f"{command!r}: not a command these tests know how to check; "
            f"start its block with '{NOT_RUN} <reason>' if it cannot run"
        )


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda b: b.where)
def test_shell_block_commands_parse(block):
    if block.not_run_reason is not None:
        pytest.skip(block.not_run_reason)
    commands = shell_commands(block.text)
    assert commands, f"{block.where} is empty"
    for command in commands:
        check_command(command)


@pytest.mark.slow
@pytest.mark.skipif(not DATA.is_dir(), reason=f"no CIFAR-10 files at {DATA}")
@pytest.mark.parametrize(
    "page", PYTHON_PAGES, ids=lambda p: str(p.relative_to(REPO))
)
def test_python_blocks_run(page, tmp_path):
    blocks = [
        (b.where, b.text)
        for b in code_blocks(page)
        if b.language == "python" and b.not_run_reason is None
    ]
    (tmp_path / "shared").symlink_to(DATA.parents[1])
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "blocks.json").write_text(json.dumps(blocks))
    completed = subprocess.run(
        [sys.executable, "-c", RUNNER, str(tmp_path / "blocks.json")],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=900,
        env={
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "MPLBACKEND": "Agg",
            "KERAS_CHATTN_DATA_DIR": str(DATA),
            "PYTHONPATH": str(REPO),
        },
    )
    assert completed.returncode == 0, (
        completed.stdout[-3000:] + completed.stderr[-5000:]
    )


def test_readme_links_point_at_files_that_exist():
    # mkdocs checks the site's links; README is outside it.
    text = (REPO / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    relative = [t for t in targets if "://" not in t]
    assert relative, "README links to no file"
    missing = [t for t in relative if not (REPO / t).exists()]
    assert not missing, missing
