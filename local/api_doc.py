"""docs/api.md's table of operations, written from the committed OpenAPI document by `make openapi`.

``python -m local.api_doc`` rewrites the part of docs/api.md between ``BEGIN`` and ``END``; a unit
test fails when that part does not match functions/api/openapi.json (which another test keeps
matching the code).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "functions" / "api" / "openapi.json"
API_DOC = ROOT / "docs" / "api.md"

BEGIN = "<!-- operations: written from openapi.json by `make openapi`, do not edit by hand -->"
END = "<!-- end of operations -->"
METHODS = ("get", "post", "put", "patch", "delete")


def operations_table(document: dict[str, Any]) -> str:
    """One line per operation, by path: its method and path, its success statuses, its summary."""
    lines = ["| operation | success | what it does |", "|---|---|---|"]
    for path, operations in sorted(document["paths"].items()):
        for method in METHODS:
            if method not in operations:
                continue
            operation = operations[method]
            success = ", ".join(code for code in sorted(operation["responses"]) if code.startswith("2"))
            summary = operation.get("summary", "").replace("|", "\\|")
            lines.append(f"| `{method.upper()} {path}` | {success} | {summary} |")
    return "\n".join(lines) + "\n"


def render(doc: str, document: dict[str, Any]) -> str:
    """``doc`` with its table of operations written from ``document``."""
    head, found, rest = doc.partition(BEGIN + "\n")
    _, found_end, tail = rest.partition(END)
    if not (found and found_end):
        raise ValueError(f"docs/api.md has no {BEGIN!r} … {END!r} section")
    return head + BEGIN + "\n" + operations_table(document) + END + tail


def main() -> None:
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    API_DOC.write_text(render(API_DOC.read_text(encoding="utf-8"), document), encoding="utf-8")
    print(f"wrote {API_DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
