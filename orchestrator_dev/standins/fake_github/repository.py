"""The repository routes: a workflow file's contents, and the branches, tags, environments and
activity autocomplete suggests from."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import quote, unquote

from orchestrator_dev.standins.fake_github.model import workflow_yaml
from orchestrator_dev.standins.fake_github.state import GitHubState
from orchestrator_dev.standins.fake_github.wire import error, etag_matches, ref_sha, user_object
from orchestrator_dev.standins.http_standin import Request, Response


class RepositoryRoutes(GitHubState):
    """The stand-in's repository contents, refs, environments and activity."""

    def _on_contents(self, request: Request, params: dict[str, str]) -> Response:
        """A file's content as GitHub's default media type gives it: base64, with its metadata."""
        ref = request.query.get("ref") or "main"
        path = unquote(params["path"])
        folder, _, file = path.rpartition("/")
        if not self._is_our_repo(params) or folder != ".github/workflows":
            return error(404, "Not Found")
        if not self.contents_readable:
            return error(403, "Resource not accessible by personal access token")
        if not self._has_ref(ref):
            return error(404, f"No commit found for the ref {ref}")
        text = self.workflow_files.get(file)
        if text is None and file in self.workflows:
            text = workflow_yaml(self.workflows[file])
        if text is None:
            return error(404, "Not Found")
        data = text.encode()
        api = f"{self.url}/repos/{self.repository}"
        sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's blob id
        html = f"https://github.com/{self.repository}/blob/{ref}/{path}"
        body = {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": file,
            "path": path,
            "content": base64.encodebytes(data).decode(),  # GitHub wraps it at 60 characters
            "sha": sha,
            "url": f"{api}/contents/{path}?ref={ref}",
            "git_url": f"{api}/git/blobs/{sha}",
            "html_url": html,
            "download_url": f"https://raw.githubusercontent.com/{self.repository}/{ref}/{path}",
            "_links": {"self": f"{api}/contents/{path}?ref={ref}", "git": f"{api}/git/blobs/{sha}", "html": html},
        }
        # GitHub's ETag is a weak validator of the answer; one that matches If-None-Match gets 304, no body.
        etag = 'W/"' + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest() + '"'
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(304, None, {"ETag": etag})
        return Response(200, body, {"ETag": etag})

    def _on_branches(self, request: Request, params: dict[str, str]) -> Response:
        if not self._is_our_repo(params):
            return error(404, "Not Found")
        api = f"{self.url}/repos/{self.repository}"
        branches = [
            {"name": name, "commit": {"sha": sha, "url": f"{api}/commits/{sha}"}, "protected": False}
            for name, sha in ((name, ref_sha("heads", name)) for name in self.branches)
        ]
        return self._paged(request, branches)

    def _on_activity(self, request: Request, params: dict[str, str]) -> Response:
        """Pushes, merges and branch changes, newest first, as GitHub's repository activity lists them."""
        if not self._is_our_repo(params):
            return error(404, "Not Found")
        items = [
            {
                "id": 1_296_269_000 + number,
                "node_id": "RA_" + base64.b64encode(f"Activity{number}".encode()).decode().rstrip("="),
                "before": ref_sha("before", f"{ref}{number}"),
                "after": ref_sha("after", f"{ref}{number}"),
                "ref": ref,
                "timestamp": timestamp,
                "activity_type": kind,
                "actor": user_object("octocat", 583231),
            }
            for number, (ref, timestamp, kind) in enumerate(self.activity)
        ]
        return self._paged(request, items)

    def _on_tags(self, request: Request, params: dict[str, str]) -> Response:
        if not self._is_our_repo(params):
            return error(404, "Not Found")
        api = f"{self.url}/repos/{self.repository}"
        tags = []
        for name in self.tags:
            sha, quoted = ref_sha("tags", name), quote(name, safe="")
            tags.append(
                {
                    "name": name,
                    "commit": {"sha": sha, "url": f"{api}/commits/{sha}"},
                    "zipball_url": f"{api}/zipball/refs/tags/{quoted}",
                    "tarball_url": f"{api}/tarball/refs/tags/{quoted}",
                    "node_id": "REF_" + base64.b64encode(f"tags/{name}".encode()).decode().rstrip("="),
                }
            )
        return self._paged(request, tags)

    def _on_environments(self, request: Request, params: dict[str, str]) -> Response:
        if not self._is_our_repo(params):
            return error(404, "Not Found")
        api = f"{self.url}/repos/{self.repository}"
        environments = []
        for number, (name, updated_at) in enumerate(self.environments):
            environment_id = 161_088_068 + number
            quoted = quote(name, safe="")
            environments.append(
                {
                    "id": environment_id,
                    "node_id": "EN_" + base64.b64encode(f"Environment{environment_id}".encode()).decode(),
                    "name": name,
                    "url": f"{api}/environments/{quoted}",
                    "html_url": f"https://github.com/{self.repository}/deployments/activity_log?environments_filter={quoted}",
                    "created_at": updated_at,
                    "updated_at": updated_at,
                    "protection_rules": [],
                    "deployment_branch_policy": None,
                }
            )
        page = self._paged(request, environments)
        return Response(200, {"total_count": len(environments), "environments": page.body}, page.headers)
