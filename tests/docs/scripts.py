"""The argument parsers of examples/*.py and benchmarks/*.py, run for real.

`parse_script_arguments` runs a script as `__main__` (its imports and
module-level code, as `python script.py` does) and stops it at its own
`parse_args` call, after parsing: so a documented command is checked
against the parser the script really builds, without training anything.
"""

import argparse
import contextlib
import io
import pathlib
import runpy
import sys
from unittest import mock

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = sorted(
    path
    for folder in ("examples", "benchmarks")
    for path in (REPO / folder).glob("*.py")
    if "argparse" in path.read_text()
)


class _Stop(Exception):
    def __init__(self, parser, namespace=None):
        super().__init__()
        self.parser = parser
        self.namespace = namespace


def _run_until_parse(script, argv, parse):
    if "parse_args(" not in script.read_text():
        # Running it would do its whole job: refuse rather than run.
        raise AssertionError(f"{script.name} parses no arguments")
    original = argparse.ArgumentParser.parse_args

    def stop_at_parse(self, args=None, namespace=None):
        raise _Stop(self, original(self, args, namespace) if parse else None)

    stderr = io.StringIO()
    folder = str(script.parent)
    sys.path.insert(0, folder)
    try:
        with (
            mock.patch.object(
                argparse.ArgumentParser, "parse_args", stop_at_parse
            ),
            mock.patch.object(sys, "argv", [str(script), *argv]),
            contextlib.redirect_stderr(stderr),
        ):
            runpy.run_path(str(script), run_name="__main__")
    except _Stop as stop:
        return stop
    except SystemExit as exit_:
        raise AssertionError(
            f"{script.name} {' '.join(argv)} exited with {exit_.code}:\n"
            f"{stderr.getvalue()}"
        ) from None
    finally:
        sys.path.remove(folder)
    raise AssertionError(f"{script.name} never called parse_args")


def parse_script_arguments(script, argv):
    """The Namespace `script`'s own parser makes of `argv`."""
    return _run_until_parse(pathlib.Path(script), list(argv), True).namespace


def script_parser(script):
    """The ArgumentParser `script` builds (nothing parsed)."""
    return _run_until_parse(pathlib.Path(script), [], False).parser
