"""CITATION.cff is valid Citation File Format 1.2.0 and agrees with the project and its licence files."""

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "citation-file-format-1.2.0.json").read_text())


@pytest.fixture(scope="module")
def citation():
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def problems(document):
    validator = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(document)]


def test_citation_cff_is_valid_against_the_cff_1_2_0_schema(citation):
    assert citation["cff-version"] == "1.2.0"
    assert problems(citation) == []


def test_the_schema_refuses_a_citation_file_without_authors_or_with_an_unknown_licence(citation):
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
