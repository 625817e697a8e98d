"""The `pycon` blocks of README.md and docs/*.md: each page's blocks run as
doctests, in order in one namespace, their printed values compared with the
page's. What the docs state as a figure is shown this way, computed."""

import doctest

import pytest

from tests.docs.markdown_blocks import PAGES
from tests.docs.markdown_blocks import REPO
from tests.docs.markdown_blocks import code_blocks

PYCON_PAGES = [
    page
    for page in PAGES
    if any(b.language == "pycon" for b in code_blocks(page))
]


def test_some_pages_show_computed_values():
    assert REPO / "README.md" in PYCON_PAGES


@pytest.mark.parametrize(
    "page", PYCON_PAGES, ids=lambda p: str(p.relative_to(REPO))
)
def test_pycon_blocks_print_what_the_page_shows(page):
    namespace = {"__name__": "__main__"}
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    parser = doctest.DocTestParser()
    for block in code_blocks(page):
        if block.language != "pycon":
            continue
        test = parser.get_doctest(
            block.text, namespace, block.where, str(page), block.line
        )
        result = runner.run(test, clear_globs=False)
        assert result.failed == 0, f"{block.where}: see the output above"
