"""The house rules that keep qed navigable: no import cycles, and `import qed` stays light."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import qed

SRC = pathlib.Path(qed.__file__).parent


def _allowed(cycle: frozenset[str]) -> bool:
    """The autograd tape's deliberate knot: a Tensor's operators are ops (ops, reduce, select,
    shape) and ops make Tensors; it stays inside qed.autograd."""
    return all(m.startswith("qed.autograd.") for m in cycle)


def _module_graph() -> dict[str, set[str]]:
    """module → the qed modules it imports, at module level or inside functions."""
    mods = {}
    for path in SRC.rglob("*.py"):
        parts = ["qed", *path.relative_to(SRC).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                candidates = [f"{base}.{a.name}" for a in node.names] + [base]
            elif isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            else:
                continue
            target = next((c for c in candidates if c in mods and c != name), None)
            if target:
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_qed():
    cycles = [sorted(c) for c in _cycles(_module_graph()) if not _allowed(c)]
    assert cycles == [], f"import cycles (share through a module of their own): {cycles}"


def test_import_qed_does_not_import_sklearn_or_the_subpackages():
    code = (
        "import sys, qed; "
        "print(sorted(m for m in sys.modules if m.startswith(('sklearn', 'qed.linear', "
        "'qed.classify', 'qed.nn', 'torch', 'dask'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
