"""research/ is below the HTTP layer: none of its modules imports DRF, django-filter or excerpts.api."""

import ast
from pathlib import Path

from excerpts.research import limits


def imported_modules(path, package):
    """Every module a file imports, relative imports made absolute from ``package``."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def test_the_research_package_imports_neither_drf_nor_the_api():
    forbidden = ("rest_framework", "drf_spectacular", "django_filters", "excerpts.api")
    paths = sorted(Path(limits.__file__).parent.glob("*.py"))
    assert {"facets.py", "sampling.py", "limits.py", "caching.py"} <= {path.name for path in paths}
    for path in paths:
        found = [name for name in imported_modules(path, "excerpts.research") if name.startswith(forbidden)]
        assert found == [], f"{path.name} imports {found}"


def test_the_import_check_sees_a_relative_import_of_the_api(tmp_path):
    path = tmp_path / "module.py"
    path.write_text("from ..api.pagination import COUNT_LIMIT\nfrom .. import api\nfrom . import limits\n")
    assert set(imported_modules(path, "excerpts.research")) == {
        "excerpts.api.pagination",
        "excerpts.api.pagination.COUNT_LIMIT",
        "excerpts",
        "excerpts.api",
        "excerpts.research",
        "excerpts.research.limits",
    }
