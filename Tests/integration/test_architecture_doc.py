"""docs/ARCHITECTURE.md stays true: its layer table is the package's dependencies and every source
file imports only what its row allows; the routes, files and documents it names exist; and every
document a comment in Sources cites is in the repository."""
import json
import os
import pathlib
import re
import shutil
import subprocess

from conftest import REPO, binary

DOC = (REPO / "docs" / "ARCHITECTURE.md").read_text()
# Modules of the toolchain any target may import, as the document says.
TOOLCHAIN = {"Synchronization", "Glibc", "Darwin"}


def tracked_files():
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return set(listed.split())


def layer_table():
    """target -> the modules its row says it may import."""
    rows = {}
    for line in DOC.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"`\w+`", cells[0]):
            rows[cells[0].strip("`")] = set(re.findall(r"`(\w+)`", cells[2]))
    return rows


def package_dependencies():
    swift = shutil.which("swift") or "/opt/swift/usr/bin/swift"
    dump = json.loads(subprocess.run([swift, "package", "dump-package"], cwd=REPO, capture_output=True, text=True,
                                     check=True, timeout=120).stdout)
    dependencies = {}
    for target in dump["targets"]:
        if target["type"] not in ("regular", "executable"):
            continue
        names = set()
        for dependency in target["dependencies"]:
            kind, value = next(iter(dependency.items()))
            names.add(value[0])
        dependencies[target["name"]] = names
    return dependencies


def test_the_layer_table_is_the_package():
    table = layer_table()
    package = package_dependencies()
    assert package.pop("CNetfilterGlue") == set(), "the C glue imports nothing of ours"
    assert set(table) == set(package), "targets in the table and in Package.swift differ"
    for target, allowed in table.items():
        assert allowed == package[target], (target, allowed ^ package[target])


def test_every_file_imports_only_what_its_layer_allows():
    table = layer_table()
    for target, allowed in table.items():
        for path in (REPO / "Sources" / target).rglob("*.swift"):
            for module in re.findall(r"^(?:@testable |@_\w+ )?import (\w+)", path.read_text(), re.M):
                assert module in allowed | TOOLCHAIN, f"{path.relative_to(REPO)} imports {module}, outside its layer"


def test_the_routes_it_names_are_served():
    named = set(re.findall(r"`(GET|POST|PUT|DELETE) (/[^`\s]*)`", DOC))
    assert ("POST", "/sessions/{id}/retroactive-binds") in named
    served = subprocess.run([binary(), "routes"], capture_output=True, text=True, check=True, timeout=60).stdout
    routes = {tuple(line.split()[:2]) for line in served.splitlines()}
    for route in named:
        assert route in routes, f"ARCHITECTURE.md names {route}, which the server does not serve"


def test_the_files_and_documents_it_names_exist():
    files = tracked_files()
    names = {pathlib.PurePosixPath(path).name for path in files}
    paths = set(re.findall(r"`((?:Sources|Tests|docs)/[\w/+.-]+)`", DOC))
    assert paths, "the document names no files"
    for path in paths:
        assert path in files or any(file.startswith(path.rstrip("/") + "/") for file in files), path
    for name in set(re.findall(r"`([\w+]+\.(?:swift|py|h))`", DOC)):
        assert name in names, name
    for link in re.findall(r"\]\(([\w.]+\.md)\)", DOC):
        assert f"docs/{link}" in files, link


def test_every_document_a_comment_cites_is_in_the_repository():
    cited = set()
    for path in (REPO / "Sources").rglob("*"):
        if path.is_file():
            cited |= set(re.findall(r"\b[A-Z][A-Z_]+\.md\b", path.read_text(errors="replace")))
    assert cited
    files = tracked_files()
    for document in cited:
        assert any(file.endswith("/" + document) or file == document for file in files), document
