"""GitHub's conventions every route follows: error bodies, pagination links, ETags, timestamps, the
`created` search syntax, and the user and repository objects its answers embed."""

from __future__ import annotations

import base64
import hashlib
import math
import operator
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from orchestrator_dev.standins.http_standin import Response

DOCS_URL = "https://docs.github.com/rest"
DISPATCH_DOCS_URL = "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event"
CANCEL_DOCS_URL = "https://docs.github.com/rest/actions/workflow-runs#cancel-a-workflow-run"


def error(status: int, message: str, docs: str = DOCS_URL) -> Response:
    return Response(status, {"message": message, "documentation_url": docs, "status": str(status)})


def invalid(detail: str) -> Response:
    return error(422, f"Invalid request.\n\n{detail}", DISPATCH_DOCS_URL)


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def created_filter(expression: str) -> Callable[[datetime], bool]:
    """GitHub's search syntax for `created`: `>=T`, `>T`, `<=T`, `<T`, `A..B`, or a day or second."""
    comparisons: tuple[tuple[str, Callable[[datetime, datetime], bool]], ...] = (
        (">=", operator.ge),
        ("<=", operator.le),
        (">", operator.gt),
        ("<", operator.lt),
    )
    for symbol, compare in comparisons:
        if expression.startswith(symbol):
            bound = parse_time(expression[len(symbol) :])
            return lambda moment: compare(moment, bound)
    if ".." in expression:
        low, high = (parse_time(part) for part in expression.split("..", 1))
        return lambda moment: low <= moment <= high
    start = parse_time(expression)
    end = start + (timedelta(seconds=1) if "T" in expression else timedelta(days=1))
    return lambda moment: start <= moment < end


def link_header(url: str, query: Mapping[str, str], page: int, per_page: int, total: int) -> str:
    """GitHub's pagination links (first, prev, next, last) for a page of `total` items."""
    last = max(1, math.ceil(total / per_page))
    links = []
    for rel, number in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
        if rel in ("prev", "first") and page == 1:
            continue
        if rel in ("next", "last") and page >= last:
            continue
        target = urlencode({**query, "per_page": str(per_page), "page": str(number)})
        links.append(f'<{url}?{target}>; rel="{rel}"')
    return ", ".join(links)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110 §13.1.2): any listed tag, W/ or not, or `*`."""
    if if_none_match is None:
        return False
    listed = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in listed or etag.removeprefix("W/") in listed


def int_param(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def ref_sha(kind: str, name: str) -> str:
    """A commit id for a branch or tag: made up, but the same for the same name."""
    return hashlib.sha1(f"refs/{kind}/{name}".encode()).hexdigest()  # noqa: S324 - not security


def user_object(login: str, user_id: int) -> dict[str, Any]:
    api = f"https://api.github.com/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": "U_" + base64.b64encode(f"04:User{user_id}".encode()).decode(),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "User",
        "site_admin": False,
    }


# Hypermedia links of a repository object: name → URL template suffix.
_REPO_LINKS = {
    "archive": "/{archive_format}{/ref}",
    "assignees": "/assignees{/user}",
    "blobs": "/git/blobs{/sha}",
    "branches": "/branches{/branch}",
    "collaborators": "/collaborators{/collaborator}",
    "comments": "/comments{/number}",
    "commits": "/commits{/sha}",
    "compare": "/compare/{base}...{head}",
    "contents": "/contents/{+path}",
    "contributors": "/contributors",
    "deployments": "/deployments",
    "downloads": "/downloads",
    "events": "/events",
    "forks": "/forks",
    "git_commits": "/git/commits{/sha}",
    "git_refs": "/git/refs{/sha}",
    "git_tags": "/git/tags{/sha}",
    "hooks": "/hooks",
    "issue_comment": "/issues/comments{/number}",
    "issue_events": "/issues/events{/number}",
    "issues": "/issues{/number}",
    "keys": "/keys{/key_id}",
    "labels": "/labels{/name}",
    "languages": "/languages",
    "merges": "/merges",
    "milestones": "/milestones{/number}",
    "notifications": "/notifications{?since,all,participating}",
    "pulls": "/pulls{/number}",
    "releases": "/releases{/id}",
    "stargazers": "/stargazers",
    "statuses": "/statuses/{sha}",
    "subscribers": "/subscribers",
    "subscription": "/subscription",
    "tags": "/tags",
    "teams": "/teams",
    "trees": "/git/trees{/sha}",
}


REPOSITORY_ID = 1296269


def repository_object(base: str, full_name: str) -> dict[str, Any]:
    owner, name = full_name.split("/", 1)
    api = f"{base}/repos/{full_name}"
    repo: dict[str, Any] = {
        "id": REPOSITORY_ID,
        "node_id": "R_kgDOABPHjQ",
        "name": name,
        "full_name": full_name,
        "owner": user_object(owner, 9919),
        "private": True,
        "html_url": f"https://github.com/{full_name}",
        "description": None,
        "fork": False,
        "url": api,
    }
    repo.update({f"{link}_url": api + suffix for link, suffix in _REPO_LINKS.items()})
    return repo


def webhook_repository(base: str, full_name: str) -> dict[str, Any]:
    """The full repository object webhook payloads carry (the REST run has the minimal one)."""
    repo = repository_object(base, full_name)
    repo.update(
        {
            "created_at": "2023-03-01T09:00:00Z",
            "updated_at": "2024-01-02T10:00:00Z",
            "pushed_at": "2024-01-02T10:00:00Z",
            "git_url": f"git://github.com/{full_name}.git",
            "ssh_url": f"git@github.com:{full_name}.git",
            "clone_url": f"https://github.com/{full_name}.git",
            "svn_url": f"https://github.com/{full_name}",
            "homepage": None,
            "size": 504,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": "Python",
            "has_issues": True,
            "has_projects": False,
            "has_downloads": True,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": 0,
            "license": None,
            "allow_forking": False,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private",
            "forks": 0,
            "open_issues": 0,
            "watchers": 0,
            "default_branch": "main",
            "custom_properties": {},
        }
    )
    return repo
