"""Confinement: a repository's own seamscope.toml names only files inside that repository, committed links are
links (never followed out of the tree), and inputs are read under a size limit the user can raise."""
from __future__ import annotations

import json
import os

import pytest
from hostile import APP, all_output, one_line_error, run_cli

from gitutil import commit, make_repo
from toolkit.config import load_toml
from toolkit.errors import ConfigError
from toolkit.load.gitrepo import Repo

SECRET = "OTHER_CLIENT_SECRET_TITLE"
JIRA = ("Issue key,Summary,Issue Type,Status,Created,Resolved\n"
        f"OC-1,{SECRET} charge fails,Bug,Done,2024-01-02 10:00,2024-01-03 10:00\n")


@pytest.fixture()
def clients(tmp_path):
    """``root/acme`` (a client's checkout whose own toml reaches into ``root/other``) and ``root/other``."""
    other = tmp_path / "root" / "other"
    other.mkdir(parents=True)
    (other / "jira.csv").write_text(JIRA)
    (tmp_path / "credentials").write_text("aws_secret_access_key=AKIASECRETLINE\n")
    acme = make_repo(tmp_path / "root" / "acme", {**APP, "jira.csv": JIRA.replace(SECRET, "own title")})
    return tmp_path, acme


def test_a_repository_toml_reaching_outside_is_refused_naming_file_line_and_key(clients):
    tmp, acme = clients
    toml = acme / "seamscope.toml"
    toml.write_text('name = "acme"\nrepo = "."\nissues = ["../other/jira.csv"]\n')
    res = run_cli("audit", "--config", str(toml), "--out", str(tmp / "out"), cache=tmp / "cache")
    line = one_line_error(res)
    assert res.returncode == 2 and f"{toml}:3" in line and "issues" in line and "outside the repository" in line
    assert not (tmp / "out").exists()
    for text, key in ((f'labels = "{tmp / "credentials"}"\n', "labels"),  # absolute
                      ('tests = ["../../credentials"]\n', "tests"), ('repo = "/"\n', "repo")):
        toml.write_text(text)
        with pytest.raises(ConfigError, match=key) as err:
            load_toml(toml)
        assert f"{toml}:1" in str(err.value)
    os.symlink(tmp / "credentials", acme / "creds.csv")  # a link inside that points out
    toml.write_text('labels = "creds.csv"\n')
    with pytest.raises(ConfigError, match="labels"):
        load_toml(toml)


def test_flags_given_on_the_command_line_replace_the_repository_toml_and_may_point_anywhere(clients):
    tmp, acme = clients
    toml = acme / "seamscope.toml"
    toml.write_text('issues = ["../other/jira.csv"]\n')
    conf = load_toml(toml, given={"issues"})
    assert conf.issues == () and conf.repo == acme.resolve()
    res = run_cli("audit", "--config", str(toml), "--issues", str(tmp / "root" / "other" / "jira.csv"),
                  "--out", str(tmp / "out"), cache=tmp / "cache")
    assert res.returncode == 0, res.stderr
    assert SECRET in all_output(tmp / "out")  # the user asked for it on the command line


def test_audit_many_never_reads_outside_a_client_folder(clients):
    tmp, acme = clients
    (acme / "seamscope.toml").write_text(f'issues = ["../other/jira.csv"]\nlabels = "{tmp / "credentials"}"\n')
    res = run_cli("audit-many", str(tmp / "root"), "--out", str(tmp / "many"), "--workers", "1",
                  cache=tmp / "cache")
    assert res.returncode == 0, res.stderr
    index = json.loads((tmp / "many" / "index.json").read_text())
    by_name = {r["repository"]: r for r in index["repositories"]} if "repositories" in index else None
    out = all_output(tmp / "many") + res.stderr + res.stdout
    assert SECRET not in out and "AKIASECRETLINE" not in out
    assert "outside the repository" in out and "seamscope.toml" in out
    assert by_name is None or by_name["acme"]["status"] == "failed"
    (acme / "seamscope.toml").write_text('issues = ["jira.csv"]\n')  # inside: fine
    res = run_cli("audit-many", str(tmp / "root"), "--out", str(tmp / "many2"), "--workers", "1",
                  cache=tmp / "cache")
    assert res.returncode == 0 and "own title" in all_output(tmp / "many2" / "acme")


def test_committed_links_are_links_and_huge_or_odd_files_are_skipped_with_a_reason(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.py").write_text("def OUTSIDE_FUNCTION_NAME():\n    return '/outside/endpoint'\n")
    huge = outside / "huge.py"
    with open(huge, "wb") as fh:  # sparse: 3 GiB that cost no disk
        fh.truncate(3 << 30)
    repo = make_repo(tmp_path / "repo", APP)
    os.symlink(outside / "leak.py", repo / "pkg" / "core" / "leak.py")
    os.symlink(huge, repo / "pkg" / "core" / "huge.py")
    os.symlink("models.py", repo / "pkg" / "core" / "alias.py")  # inside the tree: a link still
    (repo / "pkg" / "core" / "big.py").write_text("X = 1\n" + "#" * (2 << 20))
    (repo / "pkg" / "core" / "\udc80a.py").write_text("def latin1_name():\n    return 1\n")  # b"\x80a.py"
    commit(repo, "links and odd names")
    r = Repo.open(repo)
    skips: list = []
    files = r.list_files(skips=skips)
    assert sorted(s.path for s in skips) == ["pkg/core/huge.py", "pkg/core/leak.py"]  # the inside link: no skip
    assert all("outside the repository: not followed" in s.reason for s in skips)
    assert "pkg/core/leak.py" not in files and "pkg/core/huge.py" not in files and "pkg/core/alias.py" not in files
    assert "pkg/core/\\x80a.py" in files
    assert "pkg/core/leak.py" not in r.list_files("HEAD")
    res = run_cli("audit", str(repo), "--out", str(tmp_path / "out"), cache=tmp_path / "cache",
                  env={"SEAMSCOPE_MAX_FILE_MB": "1"})
    assert res.returncode == 0, res.stderr
    report = all_output(tmp_path / "out")
    assert "OUTSIDE_FUNCTION_NAME" not in report and "/outside/endpoint" not in report
    assert "pkg/core/big.py" in report and "1 MB limit" in report and "SEAMSCOPE_MAX_FILE_MB" in report
    assert "pkg/core/leak.py" in report and "outside the repository" in report
    res = run_cli("audit", str(repo), "--at", "HEAD", "--out", str(tmp_path / "out-at"), cache=tmp_path / "cache",
                  env={"SEAMSCOPE_MAX_FILE_MB": "1"})
    assert res.returncode == 0, res.stderr
    report = all_output(tmp_path / "out-at")
    assert "OUTSIDE_FUNCTION_NAME" not in report and "1 MB limit" in report
    res = run_cli("audit", str(repo), "--out", str(tmp_path / "out-big"), cache=tmp_path / "cache")
    assert res.returncode == 0 and "1 MB limit" not in all_output(tmp_path / "out-big")  # default limit: read
    res = run_cli("coupling", str(repo), "--kind", "structural", cache=tmp_path / "cache",
                  env={"SEAMSCOPE_MAX_FILE_MB": "lots"})
    assert res.returncode == 2 and "SEAMSCOPE_MAX_FILE_MB" in one_line_error(res)
