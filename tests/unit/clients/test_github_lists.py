"""GitHubClient.list_names (branches, tags, environments) and the ETag-aware workflow_file, against FakeGitHub."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from orchestrator.clients.github_api import GitHubClient, ListKind, NameList, WorkflowFile
from orchestrator.clients.github_errors import GitHubOutcomeUnknown, GitHubRejected
from orchestrator_dev.standins.fake_github import FakeGitHub, workflow_yaml
from orchestrator_dev.standins.http_standin import Fault
from tests.contract.openapi import github_contract
from tests.fixtures.worker import GITHUB_TOKEN, REPO, http_client

ENVIRONMENTS = [
    ("staging", "2026-01-02T10:00:00Z"),
    ("production", "2026-01-03T10:00:00Z"),
    ("qa", "2026-01-02T10:00:00Z"),
    ("dev", "2025-01-01T00:00:00Z"),
]
CONTENTS = f"/repos/{REPO}/contents/.github/workflows/diagnose.yml"


@pytest.fixture
def connect(fake_github: FakeGitHub) -> Iterator[Callable[..., GitHubClient]]:
    clients = []

    def make(repository: str = REPO) -> GitHubClient:
        http = http_client()
        clients.append(http)
        return GitHubClient(http, fake_github.url, GITHUB_TOKEN, repository, sleep=lambda seconds: None)

    yield make
    for http in clients:
        http.close()


@pytest.fixture
def github(connect: Callable[..., GitHubClient]) -> GitHubClient:
    return connect()


def list_all(github: GitHubClient, kind: ListKind, **options: Any) -> NameList:
    return github.list_names(kind, **{"max_pages": 10, "time_budget": 60.0, **options})


def list_requests(fake: FakeGitHub, kind: str) -> list[dict[str, str]]:
    return [request.query for request in fake.requests_to("GET", f"/repos/{REPO}/{kind}")]


# -- list_names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("branches", ("main", "feature/x", "release")),
        ("tags", ("v2.0.0", "v1.0.0")),
        ("environments", ("production", "qa", "staging", "dev")),
    ],
)
def test_one_page_of_each_kind(
    fake_github: FakeGitHub, github: GitHubClient, kind: ListKind, expected: tuple[str, ...]
) -> None:
    fake_github.branches = ["main", "feature/x", "release"]
    fake_github.tags = ["v2.0.0", "v1.0.0"]
    fake_github.environments = list(ENVIRONMENTS)

    assert list_all(github, kind) == NameList(expected, complete=True, calls=1)
    [request] = fake_github.requests_to("GET", f"/repos/{REPO}/{kind}")
    assert request.query == {"per_page": "100", "page": "1"}
    github_contract().validate_request("GET", request.path, body=None, query=request.query)


def test_environments_are_most_recently_updated_first_ties_by_name(
    fake_github: FakeGitHub, github: GitHubClient
) -> None:
    fake_github.environments = [
        ("b", "2026-01-01T00:00:00Z"),
        ("a", "2026-01-01T00:00:00Z"),
        ("c", "2026-02-01T00:00:00Z"),
    ]

    assert list_all(github, "environments").names == ("c", "a", "b")


def test_250_branches_take_three_calls_in_githubs_order(fake_github: FakeGitHub, github: GitHubClient) -> None:
    fake_github.branches = [f"branch-{n:03}" for n in range(250)]

    listed = list_all(github, "branches")

    assert listed == NameList(tuple(fake_github.branches), complete=True, calls=3)
    assert [query["page"] for query in list_requests(fake_github, "branches")] == ["1", "2", "3"]


def test_a_full_last_page_without_a_next_link_is_complete(fake_github: FakeGitHub, github: GitHubClient) -> None:
    fake_github.tags = [f"v{n}" for n in range(100)]

    assert list_all(github, "tags") == NameList(tuple(fake_github.tags), complete=True, calls=1)


def test_max_pages_stops_early_and_says_so(fake_github: FakeGitHub, github: GitHubClient) -> None:
    fake_github.branches = [f"branch-{n:03}" for n in range(250)]

    listed = list_all(github, "branches", max_pages=2)

    assert listed == NameList(tuple(fake_github.branches[:200]), complete=False, calls=2)


def test_no_request_is_started_once_the_time_budget_is_spent(fake_github: FakeGitHub, github: GitHubClient) -> None:
    fake_github.branches = [f"branch-{n:03}" for n in range(300)]
    readings = iter([100.0, 100.0, 100.4, 101.0])  # start, then before each request

    listed = list_all(github, "branches", time_budget=1.0, clock=lambda: next(readings))

    assert listed == NameList(tuple(fake_github.branches[:200]), complete=False, calls=2)
    assert len(list_requests(fake_github, "branches")) == 2


def test_a_spent_budget_makes_no_request(fake_github: FakeGitHub, github: GitHubClient) -> None:
    assert list_all(github, "tags", time_budget=0.0) == NameList((), complete=False, calls=0)
    assert list_requests(fake_github, "tags") == []


def test_max_pages_below_one_is_refused(github: GitHubClient) -> None:
    with pytest.raises(ValueError, match="max_pages"):
        list_all(github, "branches", max_pages=0)


def test_names_longer_than_a_discord_choice_are_skipped(fake_github: FakeGitHub, github: GitHubClient) -> None:
    fake_github.branches = ["a" * 100, "b" * 101, "main"]

    assert list_all(github, "branches").names == ("a" * 100, "main")


def test_junk_items_and_duplicates_are_skipped(fake_github: FakeGitHub, github: GitHubClient) -> None:
    junk: list[Any] = [
        {"name": "ok"},
        {"name": 5},
        "x",
        None,
        [],
        {"nome": "y"},
        {"name": ""},
        {"name": "ok"},
        {"name": "z"},
    ]
    fake_github.inject(Fault("GET", "/branches$", status=200, body=junk))

    assert list_all(github, "branches") == NameList(("ok", "z"), complete=True, calls=1)


def test_environments_with_junk_or_odd_times_are_kept_in_a_sensible_order(
    fake_github: FakeGitHub, github: GitHubClient
) -> None:
    body = {
        "total_count": 5,
        "environments": [
            {"name": "no-time"},
            {"name": "bad-time", "updated_at": "yesterday"},
            {"name": "recent", "updated_at": "2026-03-01T00:00:00Z"},
            {"name": 7, "updated_at": "2026-04-01T00:00:00Z"},
            42,
        ],
    }
    fake_github.inject(Fault("GET", "/environments$", status=200, body=body))

    assert list_all(github, "environments").names == ("recent", "bad-time", "no-time")


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("branches", {"message": "not a list"}),
        ("tags", "v1"),
        ("environments", [{"name": "staging"}]),
        ("environments", {"total_count": 1}),
        ("branches", b"<html>proxy error</html>"),
    ],
)
def test_a_body_of_the_wrong_shape_is_outcome_unknown(
    fake_github: FakeGitHub, github: GitHubClient, kind: ListKind, body: object
) -> None:
    fake_github.inject(Fault("GET", f"/{kind}$", status=200, body=body))

    with pytest.raises(GitHubOutcomeUnknown):
        list_all(github, kind)


@pytest.mark.parametrize("kind", ["branches", "tags", "environments"])
def test_an_unknown_repository_is_rejected_404(connect: Callable[..., GitHubClient], kind: ListKind) -> None:
    with pytest.raises(GitHubRejected) as caught:
        list_all(connect("acme/other"), kind)

    assert caught.value.status == 404


def test_a_token_without_access_is_rejected_403(fake_github: FakeGitHub, github: GitHubClient) -> None:
    message = {"message": "Resource not accessible by personal access token", "status": "403"}
    fake_github.inject(Fault("GET", "/environments$", status=403, body=message))

    with pytest.raises(GitHubRejected) as caught:
        list_all(github, "environments")

    assert caught.value.status == 403
    assert caught.value.message == "Resource not accessible by personal access token"


def test_an_error_on_a_later_page_is_raised_not_half_a_list(fake_github: FakeGitHub, github: GitHubClient) -> None:
    fake_github.branches = [f"branch-{n:03}" for n in range(150)]
    fake_github.inject(Fault("GET", "/branches$", status=404, body={"message": "Not Found"}))

    with pytest.raises(GitHubRejected):
        list_all(github, "branches")


# -- workflow_file with an ETag --------------------------------------------------------------------


def test_workflow_file_gives_the_text_and_githubs_etag(fake_github: FakeGitHub, github: GitHubClient) -> None:
    read = github.workflow_file("diagnose.yml", "main")

    assert read.text == workflow_yaml(fake_github.workflows["diagnose.yml"])
    assert read.etag is not None and read.etag.startswith('W/"')
    [request] = fake_github.requests_to("GET", CONTENTS)
    assert "if-none-match" not in request.headers


def test_an_unchanged_file_is_304_without_text(fake_github: FakeGitHub, github: GitHubClient) -> None:
    first = github.workflow_file("diagnose.yml", "main")
    assert first.etag is not None

    again = github.workflow_file("diagnose.yml", "main", etag=first.etag)

    assert again == WorkflowFile(None, first.etag)
    conditional = fake_github.requests_to("GET", CONTENTS)[-1]
    assert conditional.headers["if-none-match"] == first.etag
    assert conditional.query == {"ref": "main"}


def test_a_changed_file_gives_the_new_text_and_a_new_etag(fake_github: FakeGitHub, github: GitHubClient) -> None:
    first = github.workflow_file("diagnose.yml", "main")
    fake_github.workflow_files["diagnose.yml"] = "name: Diagnose\non: push\n"

    changed = github.workflow_file("diagnose.yml", "main", etag=first.etag)

    assert changed.text == "name: Diagnose\non: push\n"
    assert changed.etag is not None and changed.etag != first.etag
    assert github.workflow_file("diagnose.yml", "main", etag=changed.etag).text is None


def test_a_304_to_a_read_without_an_etag_is_outcome_unknown(fake_github: FakeGitHub, github: GitHubClient) -> None:
    fake_github.inject(Fault("GET", "/contents/", status=304))

    with pytest.raises(GitHubOutcomeUnknown, match="without an ETag"):
        github.workflow_file("diagnose.yml", "main")


def test_a_missing_file_is_still_rejected_404_with_an_etag(github: GitHubClient) -> None:
    with pytest.raises(GitHubRejected) as caught:
        github.workflow_file("nope.yml", "main", etag='W/"abc"')

    assert caught.value.status == 404


def test_the_recently_updated_refs_come_newest_first_without_deleted_ones(
    fake_github: FakeGitHub, github: GitHubClient
) -> None:
    fake_github.activity = [
        ("refs/heads/main", "2026-12-04T09:00:00Z", "push"),
        ("refs/tags/v2", "2026-12-04T08:00:00Z", "push"),
        ("refs/heads/gone", "2026-12-04T07:30:00Z", "branch_deletion"),
        ("refs/heads/b", "2026-12-04T07:00:00Z", "pr_merge"),
        ("refs/heads/main", "2026-12-03T07:00:00Z", "push"),
    ]

    assert github.recently_updated_refs() == ("refs/heads/main", "refs/tags/v2", "refs/heads/b")
