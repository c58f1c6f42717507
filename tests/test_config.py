"""One configuration: ``seamscope.toml`` or ``[tool.seamscope]`` in ``pyproject.toml``, found from the audited work
tree (or the working directory) upward, read by the CLI and the notebooks alike."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitutil import make_repo
from toolkit.cli import main
from toolkit.config import AuditConfig, find_config, labels_path, load_toml, with_default_labels
from toolkit.errors import ConfigError

APP = {"app/__init__.py": "", "app/api/__init__.py": "", "app/db/__init__.py": "",
       "app/db/store.py": "def save(x):\n    return x\n",
       "app/api/views.py": "from app.db import store\n\ndef post(x):\n    return store.save(x)\n"}


def test_found_from_a_nested_folder_up_to_the_work_tree_top(tmp_path):
    repo = make_repo(tmp_path / "r", {**APP, "seamscope.toml": 'name = "mine"\n'})
    deep = repo / "app" / "api"
    assert find_config(deep) == repo / "seamscope.toml"
    assert load_toml(find_config(deep)).name == "mine"
    # a configuration above the work tree belongs to someone else: the search stops at the folder holding .git
    (tmp_path / "outer" / "inner").mkdir(parents=True)
    (tmp_path / "outer" / "seamscope.toml").write_text('name = "outer"\n')
    inner = make_repo(tmp_path / "outer" / "inner", {"m.py": "x = 1\n"})
    assert find_config(inner) is None
    assert find_config(tmp_path / "outer") == tmp_path / "outer" / "seamscope.toml"  # no repository: upward


def test_pyproject_tool_table_is_a_configuration_and_others_are_passed_by(tmp_path):
    repo = make_repo(tmp_path / "r", {**APP, "seamscope.toml": 'name = "top"\n'})
    (repo / "app" / "pyproject.toml").write_text('[project]\nname = "app"\n[tool.black]\nline-length = 99\n')
    assert find_config(repo / "app" / "api") == repo / "seamscope.toml"  # no [tool.seamscope]: not ours
    (repo / "app" / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.seamscope]\nname = "nearer"\ntests = ["results"]\n'
        '[tool.seamscope.thresholds]\nmin_revs = 4\n[tool.seamscope.components]\n"app/db/**" = "storage"\n')
    found = find_config(repo / "app" / "api")
    assert found == repo / "app" / "pyproject.toml"  # the nearer folder wins over a farther seamscope.toml
    conf = load_toml(found)
    assert conf.name == "nearer" and conf.tests == ((repo / "app" / "results").resolve(),)
    assert conf.thresholds == {"min_revs": 4} and conf.components == {"app/db/**": "storage"}
    assert conf.source == found


def test_both_in_one_folder_seamscope_toml_wins(tmp_path):
    repo = make_repo(tmp_path / "r", {**APP, "seamscope.toml": 'name = "dedicated"\n',
                                      "pyproject.toml": '[tool.seamscope]\nname = "pyproject"\n'})
    assert find_config(repo) == repo / "seamscope.toml"
    assert load_toml(find_config(repo)).name == "dedicated"


def test_pyproject_errors_name_the_file_and_line(tmp_path):
    repo = make_repo(tmp_path / "r", {**APP, "pyproject.toml": '[project]\nname = "x"\n\n[tool.seamscope]\n'
                                      'name = "x"\ncolour = "blue"\n[tool.seamscope.thresholds]\nmin_revs = -1\n'})
    with pytest.raises(ConfigError, match=r"pyproject.toml:6: unknown keys \['colour'\]"):
        load_toml(repo / "pyproject.toml")
    (repo / "pyproject.toml").write_text('[tool.seamscope]\nname = "x"\n[tool.seamscope.thresholds]\nmin_revs = -1\n')
    with pytest.raises(ConfigError, match=r"pyproject.toml:4: threshold min_revs"):
        load_toml(repo / "pyproject.toml")
    (repo / "pyproject.toml").write_text('[tool.seamscope]\ntests = ["../../elsewhere"]\n')
    with pytest.raises(ConfigError, match=r"pyproject.toml:2: .*points outside the repository"):
        load_toml(repo / "pyproject.toml")  # a repository's own pyproject cannot point the audit outside it
    (repo / "pyproject.toml").write_text('[tool.other]\nx = 1\n')
    with pytest.raises(ConfigError, match="has no \\[tool.seamscope\\] table"):
        load_toml(repo / "pyproject.toml")


def test_a_broken_pyproject_without_our_table_does_not_stop_the_search(tmp_path):
    repo = make_repo(tmp_path / "r", {**APP, "pyproject.toml": "[project\nname = \n"})
    assert find_config(repo) is None


def test_cli_uses_the_discovered_configuration_and_says_which(tmp_path, capsys):
    repo = make_repo(tmp_path / "r", {**APP, "pyproject.toml": '[tool.seamscope]\nname = "Discovered title"\n'})
    out = tmp_path / "out"
    assert main(["audit", str(repo), "-q", "-v", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"configuration: {repo / 'pyproject.toml'}" in err
    findings = json.loads((out / "findings.json").read_text())
    assert findings["title"].startswith("Discovered title") or "Discovered title" in findings["title"]
    assert findings["provenance"]["configuration"] == str(repo / "pyproject.toml")
    assert main(["audit", str(repo), "-q", "-v", "--no-config", "--out", str(tmp_path / "out2")]) == 0
    assert "configuration: none found (flags only)" in capsys.readouterr().err
    findings = json.loads((tmp_path / "out2" / "findings.json").read_text())
    assert "Discovered title" not in findings["title"]


def test_cli_discovers_from_the_working_directory(tmp_path, capsys, monkeypatch):
    repo = make_repo(tmp_path / "r", APP)
    (tmp_path / "r" / "seamscope.toml").write_text('repo = "."\nname = "From cwd"\n')
    monkeypatch.chdir(repo / "app")
    assert main(["audit", "-q", "-v", "--out", str(tmp_path / "out")]) == 0
    assert f"configuration: {repo / 'seamscope.toml'}" in capsys.readouterr().err
    findings = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert findings["provenance"]["repository"] == str(repo.resolve())


def test_labels_default_beside_the_configuration(tmp_path, monkeypatch):
    cfg = tmp_path / "proj" / "seamscope.toml"
    cfg.parent.mkdir()
    cfg.write_text('repo = "."\n')
    conf = load_toml(cfg)
    assert labels_path(conf) == cfg.parent / "seamscope-labels.csv"
    assert with_default_labels(conf).labels is None  # nothing saved yet: no labels read
    (cfg.parent / "seamscope-labels.csv").write_text("key,category\n")
    assert with_default_labels(conf).labels == cfg.parent / "seamscope-labels.csv"
    given = tmp_path / "mine.csv"
    assert labels_path(conf.with_(labels=given)) == given  # configured labels win
    monkeypatch.chdir(tmp_path)
    assert labels_path(AuditConfig(repo=Path("x"))) == tmp_path / "seamscope-labels.csv"  # no file: the cwd


# ---- seamscope init ------------------------------------------------------------------------------------------------
JUNIT = ('<?xml version="1.0"?>\n<testsuite name="s" tests="1"><testcase classname="tests.test_a" name="test_x" '
         'time="0.1"/></testsuite>\n')
GITHUB = json.dumps([{"number": 1, "title": "crash in store", "state": "closed", "labels": [{"name": "bug"}],
                      "created_at": "2024-01-01T00:00:00Z", "closed_at": "2024-01-02T00:00:00Z"}])


@pytest.fixture
def project(tmp_path) -> Path:
    repo = make_repo(tmp_path / "proj", {**APP, "docs/conf.py": "project = 'x'\n", "noxfile.py": "import nox\n",
                                         "tests/test_a.py": "from app.api import views\n\ndef test_x():\n"
                                         "    assert views.post(1) == 1\n"})
    for env in ("ci", "staging"):
        (repo / "results" / env / "run1").mkdir(parents=True)
        (repo / "results" / env / "run1" / "junit.xml").write_text(JUNIT)
    (repo / ".coverage").write_bytes(b"SQLite format 3\x00")
    (repo / "exports").mkdir()
    (repo / "exports" / "gh.json").write_text(GITHUB)
    (repo / "exports" / "notes.json").write_text('{"not": "issues"}')  # JSON that is no issue export
    (repo / "package.csv").write_text("a,b\n1,2\n")  # a CSV that is no issue export either
    return repo


def test_init_writes_a_commented_config_the_audit_reads(project, capsys):
    from toolkit.load.structure import load_structure

    assert main(["init", str(project)]) == 0
    path = project / "seamscope.toml"
    assert str(path) in capsys.readouterr().out
    text = path.read_text()
    conf = load_toml(path)  # valid, and every path it names exists
    conf.check_paths()
    assert conf.tests == ((project / "results").resolve(),)
    assert conf.coverage == (project / ".coverage").resolve()
    assert conf.issues == ((project / "exports" / "gh.json").resolve(),)
    assert conf.components == {}  # components are listed, commented: the default rules still decide
    # every component the audit finds is listed with its reason, and the excluded code with why
    cm = load_structure(project).components
    for comp, why, _files, _lines in cm.rows:
        assert f'= "{comp}"   # {why}' in text
    assert '# "noxfile.py"' in text and "excluded: build or task script" in text
    assert '# "docs/**"' in text
    # uncommenting every component line maps the files exactly as the rules do
    pinned = "\n".join(l[2:] if l.startswith('# "') and "excluded:" not in l and '= "-"' not in l else l
                       for l in text.splitlines())
    path.write_text(pinned)
    mapping = load_toml(path).components
    assert len(mapping) == len(cm.prefixes)
    again = load_structure(project, mapping=mapping).components
    assert {p: again.component_of(p) for p in APP} == {p: cm.component_of(p) for p in APP}


def test_init_refuses_to_overwrite_without_force(project, capsys):
    (project / "seamscope.toml").write_text("# mine\n")
    assert main(["init", str(project)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err
    assert (project / "seamscope.toml").read_text() == "# mine\n"
    assert main(["init", str(project), "--force"]) == 0
    assert "[components]" in (project / "seamscope.toml").read_text()


def test_init_out_elsewhere_writes_paths_relative_to_that_file(project, tmp_path):
    out = tmp_path / "configs" / "proj.toml"
    out.parent.mkdir()
    assert main(["init", str(project), "--out", str(out)]) == 0
    conf = load_toml(out)
    assert conf.repo == project.resolve() and conf.tests == ((project / "results").resolve(),)
    assert not (project / "seamscope.toml").exists()
