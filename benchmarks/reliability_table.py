"""The reliability suite as a table: cases tried, and how many held.

    python benchmarks/reliability_table.py

Runs every test of `tests/reliability` (the slow kill-and-resume ones too)
and `tests/training/test_backup.py`
with pytest and prints, per area, how many cases were tried and how many
ended as they must: with a clear error (bad arguments, crafted files,
changed settings) or with nothing lost (killed runs). A case that fails is
listed by name under the table.
"""

import pathlib
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

ROOT = pathlib.Path(__file__).resolve().parents[1]
AREAS = {
    "test_kill_and_resume": (
        "kill at every write, then resume",
        "nothing lost",
    ),
    "test_run_settings": ("re-run / resume with other settings", "clear error"),
    "test_untrusted_files": ("crafted and unusual data files", "clear error"),
    "test_clear_errors": ("bad arguments and shapes", "clear error"),
    "test_weights_and_pools": ("foreign weights, extreme pool inputs", "safe"),
    "test_example_errors": ("example failures, loading .keras", "clear error"),
    "test_hostile_arguments": (
        "hostile values to public functions",
        "clear error",
    ),
    "test_backup": (
        "resume refusals, full disk, read-only, two runs",
        "clear error",
    ),
}


def main():
    with tempfile.TemporaryDirectory() as folder:
        report = pathlib.Path(folder) / "report.xml"
        subprocess.run(
            [
                sys.executable, "-m", "pytest", "tests/reliability",
                "tests/training/test_backup.py",
                "-m", "slow or not slow", "-q", f"--junitxml={report}",
            ],
            cwd=ROOT,
            check=False,
        )  # fmt: skip
        cases = ElementTree.parse(report).getroot().iter("testcase")
        rows = {module: [0, 0, []] for module in AREAS}
        for case in cases:
            module = case.get("classname", "").split(".")[-1]
            if module not in rows:
                continue
            rows[module][0] += 1
            if case.find("failure") is None and case.find("error") is None:
                if case.find("skipped") is None:
                    rows[module][1] += 1
            else:
                rows[module][2].append(case.get("name"))
    print("\n| area | cases tried | held | as |")
    print("| --- | ---: | ---: | --- |")
    for module, (tried, held, _) in rows.items():
        area, outcome = AREAS[module]
        print(f"| {area} | {tried} | {held} | {outcome} |")
    total = sum(r[0] for r in rows.values())
    held = sum(r[1] for r in rows.values())
    print(f"| all | {total} | {held} | |")
    failed = [name for r in rows.values() for name in r[2]]
    if failed:
        print("\nFailed:", ", ".join(failed))


if __name__ == "__main__":
    main()
