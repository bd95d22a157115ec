"""Where the offboard job finds a deleted institution's file: in git, for real, in a temporary
repository (the checkout of the offboard job, `fetch-depth: 0`). A rename is the deletion of the old
name, a file deleted and added again is not deleted, a deletion is read from the commit before it,
and a first commit (no parent) or GitHub's all-zeros `before` is no previous tree."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from tutormail.pipeline.jobs import deleted_files, tree_at
from tutormail.plan.loader import load_catalog

from tests.factory import institution, to_yaml, write_institutions

ENV = {**os.environ, "GIT_AUTHOR_NAME": "CI", "GIT_AUTHOR_EMAIL": "ci@example.com", "GIT_COMMITTER_NAME": "CI",
       "GIT_COMMITTER_EMAIL": "ci@example.com", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=ENV, capture_output=True, text=True, check=True).stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """Two institutions in a first commit; the job runs at the top of the checkout."""
    git(tmp_path, "init", "-q", "-b", "main")
    write_institutions(tmp_path / "institutions", {slug: institution(name, slug=slug) for slug, name in (
        ("escola-a", "Escola A"), ("escola-b", "Escola B"))})
    commit(tmp_path, "two institutions")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def names(before, slug: str) -> set[str] | None:
    directory = before(slug)
    return None if directory is None else set(load_catalog(directory).institutions)


def test_a_deleted_file_is_read_from_the_commit_before_its_deletion_and_only_it(repo):
    (repo / "institutions" / "escola-b.yaml").unlink()
    commit(repo, "escola-b leaves")
    before = deleted_files(Path("institutions"))
    assert names(before, "escola-b") == {"escola-a", "escola-b"}
    assert before("escola-a") is None and before("escola-c") is None


def test_a_renamed_file_is_the_deletion_of_its_old_name(repo):
    # the same content under a new name: git's rename detection would call it R, not D
    old = repo / "institutions" / "escola-b.yaml"
    text = old.read_text()
    old.unlink()
    (repo / "institutions" / "escola-c.yaml").write_text(text)
    commit(repo, "escola-b is now escola-c")
    before = deleted_files(Path("institutions"))
    assert names(before, "escola-b") == {"escola-a", "escola-b"}
    assert before("escola-c") is None


def test_a_file_deleted_then_added_again_is_not_deleted_and_the_newest_deletion_counts(repo):
    path = repo / "institutions" / "escola-b.yaml"
    path.unlink()
    commit(repo, "escola-b leaves")
    path.write_text(to_yaml(institution("Escola B de novo", slug="escola-b")))
    commit(repo, "escola-b is back")
    assert deleted_files(Path("institutions"))("escola-b") is None
    path.unlink()
    commit(repo, "escola-b leaves again")
    directory = deleted_files(Path("institutions"))("escola-b")
    assert load_catalog(directory).institutions["escola-b"].name == "Escola B de novo"  # not the first version


def test_a_first_commit_has_no_previous_tree_and_nothing_deleted(repo):
    first = git(repo, "rev-parse", "HEAD")
    before = deleted_files(Path("institutions"))
    assert before("escola-a") is None and before("escola-b") is None
    assert tree_at(f"{first}^", Path("institutions")) is None  # no parent
    assert tree_at("0" * 40, Path("institutions")) is None  # GitHub's `before` of a first push
    assert set(load_catalog(tree_at(first, Path("institutions"))).institutions) == {"escola-a", "escola-b"}


def test_the_institutions_directory_may_be_named_by_an_absolute_path_or_from_elsewhere(repo, tmp_path_factory):
    """As --institutions /abs/path or run from another directory: the tree is the directory's own,
    never the checkout's current files."""
    first = git(repo, "rev-parse", "HEAD")
    (repo / "institutions" / "escola-b.yaml").unlink()
    commit(repo, "escola-b leaves")
    os.chdir(tmp_path_factory.mktemp("elsewhere"))
    before = deleted_files(repo / "institutions")
    assert names(before, "escola-b") == {"escola-a", "escola-b"}
    assert set(load_catalog(tree_at(first, repo / "institutions")).institutions) == {"escola-a", "escola-b"}


def test_a_file_deleted_in_a_merged_pull_request_is_read_from_before_the_branch_deleted_it(repo):
    """A merge commit (GitHub's default merge) shows no diff of its own: the deletion is the branch's commit."""
    git(repo, "checkout", "-q", "-b", "leaves")
    (repo / "institutions" / "escola-b.yaml").unlink()
    commit(repo, "escola-b leaves")
    git(repo, "checkout", "-q", "main")
    (repo / "README").write_text("meanwhile on main\n")
    commit(repo, "something else")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge pull request #1", "leaves")
    before = deleted_files(Path("institutions"))
    assert names(before, "escola-b") == {"escola-a", "escola-b"} and before("escola-a") is None
