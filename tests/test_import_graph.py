"""The package's modules import each other in one direction only.

Every `import keras_chattn...` statement (at module level or inside a
function) is an edge of a graph over the package's modules; the graph must
have no cycle, and the layering of STYLE.md must hold: `utils` imports
nothing of the package, `layers` nothing outside `layers` and `utils`,
`models` nothing above it (`surgery` reads the models' placement table),
and only `tuning` and the top-level `register_block` import `tuning`.
"""

import ast
import pathlib

import pytest

import keras_chattn

PACKAGE = pathlib.Path(keras_chattn.__file__).parent


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path):
    """The keras_chattn modules `path` imports (submodule where it can)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names.add(f"{node.module}.{alias.name}")
                names.add(node.module)
    return {name for name in names if name.split(".")[0] == "keras_chattn"}


def _graph():
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        # `from a.b import c` names a.b.c: keep it only where c is a module.
        targets = {t for t in _imports(path) if t in modules}
        targets.discard(name)
        graph[name] = targets
    return graph


def _package_of(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _find_cycle(graph):
    state = {}
    stack = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            # A package's __init__ re-exports its modules; a module that
            # imports a sibling through it is what this catches, so edges
            # into an __init__ count like any other.
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def _without_init_reexports(graph):
    """Drops the edges from a package's __init__ to its own modules (the
    re-exports): importing `keras_chattn.models.resnet` runs
    `keras_chattn/models/__init__.py` first, but a cycle through that file
    shows up as an edge from inside the package back to it."""
    trimmed = {}
    for name, targets in graph.items():
        if (PACKAGE.parent / name.replace(".", "/") / "__init__.py").exists():
            targets = {t for t in targets if not t.startswith(name + ".")}
        trimmed[name] = targets
    return trimmed


def test_no_import_cycles():
    cycle = _find_cycle(_without_init_reexports(_graph()))
    assert cycle is None, " -> ".join(cycle)


ALLOWED = {
    "utils": {"utils"},
    "layers": {"layers", "utils"},
    "data": {"data", "utils"},
    "models": {"models", "layers", "utils"},
    "surgery": {"surgery", "models", "layers", "utils"},
    "analysis": {"analysis", "surgery", "layers", "models", "utils"},
    "training": {"training", "data", "utils"},
    "tuning": {"tuning", "training", "models", "layers", "data", "utils"},
    "plotting": {
        "plotting",
        "analysis",
        "surgery",
        "models",
        "layers",
        "utils",
    },
}


# `keras_chattn.models.add_attention`, the name it had before surgery got
# its own package, imported on first use (not at import: no cycle).
ALIASES = {("keras_chattn.models", "keras_chattn.surgery")}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layering(package):
    graph = _graph()
    offending = sorted(
        (module, target)
        for module, targets in graph.items()
        if _package_of(module) == package
        for target in targets
        if _package_of(target) not in ALLOWED[package]
        and (module, target) not in ALIASES
    )
    assert not offending, offending


def test_the_cycle_finder_finds_cycles():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [
        "a",
        "b",
        "c",
        "a",
    ]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None
