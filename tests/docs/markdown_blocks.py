"""The code blocks of README.md and docs/*.md, as a reader sees them.

A block whose first line is `# not run in CI: <reason>` is one that cannot
run here (it downloads weights, needs a cluster, or trains for hours); the
reason is shown to the reader in the block itself.
"""

import dataclasses
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
NOT_RUN = "# not run in CI:"
FENCE = re.compile(r"^```(\w*)\s*$")


@dataclasses.dataclass(frozen=True)
class Block:
    page: pathlib.Path
    line: int  # 1-based line of the opening fence
    language: str
    text: str

    @property
    def where(self):
        return f"{self.page.relative_to(REPO)}:{self.line}"

    @property
    def not_run_reason(self):
        first = self.text.lstrip().splitlines()[0] if self.text.strip() else ""
        if first.startswith(NOT_RUN):
            return first[len(NOT_RUN) :].strip()
        return None


def code_blocks(page):
    """Every fenced block of `page`; an indented block is an error.

    Indented (four-space) code blocks carry no language, so they could
    hide a command from these tests: the pages use fences only.
    """
    blocks, language, start, lines = [], None, None, []
    previous_blank = True
    for number, line in enumerate(page.read_text().splitlines(), start=1):
        match = FENCE.match(line)
        if language is None and match:
            language, start, lines = match.group(1) or "text", number, []
        elif language is not None and line.startswith("```"):
            blocks.append(Block(page, start, language, "\n".join(lines)))
            language = None
        elif language is not None:
            lines.append(line)
        elif (
            previous_blank
            and line.startswith("    ")
            and line.strip()
            and not line.lstrip().startswith(("-", "*", "|"))
        ):
            raise ValueError(
                f"{page.relative_to(REPO)}:{number} starts an indented code "
                "block; use a fenced one with its language"
            )
        if language is None:
            previous_blank = not line.strip()
    return blocks


def all_blocks(languages):
    return [
        block
        for page in PAGES
        for block in code_blocks(page)
        if block.language in languages
    ]


def shell_commands(text):
    """The commands of a shell block: continuations joined, comments cut."""
    commands, current = [], ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0] if not raw.lstrip().startswith("#") else ""
        line = line.rstrip()
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            commands.append(current.strip())
        current = ""
    return commands
