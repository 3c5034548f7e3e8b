"""A stand-in for the GitHub Actions REST API: workflow dispatches, runs, their jobs, cancels and webhooks.

server.py      FakeGitHub: constructor and route table, auth and rate-limit headers, test controls
state.py       its runs, jobs and refs, and how a run moves (fake clock, webhook announcements)
actions.py     the Actions routes: dispatch, runs, jobs, cancel, re-run, job logs, annotations
repository.py  the repository routes: workflow file contents, branches, tags, environments, activity
jobs.py        a job's life: created, started on a runner, finished step by step
webhooks.py    workflow_run and ping deliveries, posted in order and signed
model.py       FakeWorkflow, FakeJob and the workflow file each stands for
wire.py        GitHub's conventions: error bodies, pagination links, ETags, user and repository objects
"""

from orchestrator_dev.standins.fake_github.model import FIRST_RUN_ID, FakeJob, FakeWorkflow, workflow_yaml
from orchestrator_dev.standins.fake_github.server import FakeGitHub
from orchestrator_dev.standins.fake_github.webhooks import Delivery
from orchestrator_dev.standins.fake_github.wire import DISPATCH_DOCS_URL

__all__ = ["DISPATCH_DOCS_URL", "FIRST_RUN_ID", "Delivery", "FakeGitHub", "FakeJob", "FakeWorkflow", "workflow_yaml"]
