"""CITATION.cff is valid Citation File Format 1.2.0 and agrees with the project and its licence files."""

import datetime
import json
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# The rules of CFF 1.2.0 (citation-file-format.github.io) that this file exercises: what is required of the file
# and of a reference, the reference types and licences used here, and how a person or an entity is named.
REQUIRED = {"cff-version", "message", "title", "authors"}
REFERENCE_REQUIRED = {"type", "title", "authors"}
REFERENCE_TYPES = {"article", "book", "data", "software", "generic", "website"}
LICENCES = {"MIT", "CC-BY-4.0"}  # SPDX identifiers


@pytest.fixture(scope="module")
def citation():
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def problems(document):
    """What breaks the CFF 1.2.0 rules above in ``document``, as readable lines ([] when nothing does)."""
    found = [f"'{key}' is a required property" for key in sorted(REQUIRED - set(document))]
    if document.get("cff-version") != "1.2.0":
        found.append("cff-version must be 1.2.0")
    if document.get("type", "software") not in {"software", "dataset"}:
        found.append("type must be software or dataset")
    found += licence_problems(document, "")
    found += author_problems(document.get("authors"), "")
    for name, value in (("date-released", document.get("date-released")),):
        if value is not None and not isinstance(value, datetime.date):
            found.append(f"{name} must be a YYYY-MM-DD date")
    references = [document["preferred-citation"]] if "preferred-citation" in document else []
    for where, reference in [("preferred-citation", ref) for ref in references] + [
        (f"references[{index}]", ref) for index, ref in enumerate(document.get("references", []))
    ]:
        found += [f"{where}: '{key}' is a required property" for key in sorted(REFERENCE_REQUIRED - set(reference))]
        if reference.get("type") not in REFERENCE_TYPES:
            found.append(f"{where}: unknown type {reference.get('type')!r}")
        found += licence_problems(reference, f"{where}: ")
        found += author_problems(reference.get("authors"), f"{where}: ")
    return found


def licence_problems(entry, where):
    licence = entry.get("license")
    return (
        []
        if licence is None or licence in LICENCES
        else [f"{where}license {licence!r} is not an SPDX identifier used here"]
    )


def author_problems(authors, where):
    if not isinstance(authors, list) or not authors:
        return [f"{where}authors must be a non-empty list"]
    # A person has family-names (given-names besides); an entity has a name.
    return [
        f"{where}authors[{index}] names neither a person nor an entity"
        for index, author in enumerate(authors)
        if not isinstance(author, dict) or not (author.get("family-names") or author.get("name"))
    ]


def test_citation_cff_follows_the_cff_1_2_0_rules(citation):
    assert citation["cff-version"] == "1.2.0"
    assert problems(citation) == []


def test_the_rules_refuse_a_citation_file_without_authors_or_with_an_unknown_licence(citation):
    assert any(
        "'authors' is a required property" in problem
        for problem in problems({key: value for key, value in citation.items() if key != "authors"})
    )
    assert problems({**citation, "license": "Free-for-all"})


def test_the_version_is_the_projects(citation):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert str(citation["version"]) == project["version"]
    assert str(citation["preferred-citation"]["version"]) == project["version"]


def test_the_code_is_mit_and_the_data_cc_by_4_as_the_licence_files_say(citation):
    assert citation["license"] == "MIT"
    assert citation["preferred-citation"]["type"] == "data"
    assert citation["preferred-citation"]["license"] == "CC-BY-4.0"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    data_licence = (ROOT / "LICENSE-DATA").read_text()
    assert "Attribution 4.0 International Public License" in data_licence
    assert "quoted historical words themselves are not ours to license" in data_licence


def test_the_seed_essays_are_among_the_references(citation):
    fixture = json.loads((ROOT / "fixtures" / "sino_soviet_split.json").read_text())
    essays = {
        entry["fields"]["title"]
        for entry in fixture
        if entry["model"] == "excerpts.source" and "Seed essay" in entry["fields"]["notes"]
    }
    assert essays and essays <= {reference["title"] for reference in citation["references"]}


def test_the_readme_says_how_to_cite_and_under_which_licences(citation):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## How to cite and reuse", 1)[1].split("\n## ", 1)[0]
    for needed in ("CITATION.cff", "LICENSE-DATA", "CC BY 4.0", "MIT", "/cite/", "published source"):
        assert needed in section, needed
