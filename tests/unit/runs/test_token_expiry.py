"""After the interaction token's 15 minutes, the live message continues in the channel with the bot token."""

from __future__ import annotations

import io

from orchestrator.jobs.envelopes import Job
from orchestrator_dev.standins.http_standin import Fault, Request
from tests.unit.runs.conftest import CHANNEL_ID, IN_PROGRESS, QUEUED, RESULT, Rig, RigFactory, log_lines, stage_of
from tests.unit.runs.messages import check_requests

FOURTEEN_AND_A_HALF_MINUTES = 14.5 * 60


def channel_requests(rig: Rig) -> list[Request]:
    return [r for r in rig.discord.requests if r.path.startswith(f"/api/v10/channels/{CHANNEL_ID}/messages")]


def test_past_fourteen_minutes_the_message_continues_as_a_reply_in_the_channel(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    original = rig.message(job)
    rig.github.advance_job(run_id)
    rig.clock.advance(FOURTEEN_AND_A_HALF_MINUTES)  # the token is 14.5 minutes old: no longer trusted

    rig.event(rig.github.run(run_id))

    assert len(rig.edits(job)) == 1  # only the first edit went through the interaction token
    [post] = channel_requests(rig)
    assert post.method == "POST"
    assert post.path == f"/api/v10/channels/{CHANNEL_ID}/messages"
    assert post.headers["authorization"].startswith("Bot ")
    assert post.json["message_reference"] == {"message_id": original["id"], "fail_if_not_exists": False}
    [reply] = rig.discord.channel_messages(CHANNEL_ID)
    assert reply["type"] == 19  # a reply
    assert stage_of(reply) == IN_PROGRESS
    assert rig.record(job).channel_message_id == reply["id"]

    rig.clock.advance(30 * 60)  # a 45-minute deploy
    rig.github.set_run_status(run_id, "completed", "success")
    rig.event(rig.github.run(run_id))

    post, edit = channel_requests(rig)
    assert (edit.method, edit.path) == ("PATCH", f"/api/v10/channels/{CHANNEL_ID}/messages/{reply['id']}")
    assert edit.headers["authorization"].startswith("Bot ")
    [reply] = rig.discord.channel_messages(CHANNEL_ID)
    assert stage_of(reply) == RESULT
    assert len(rig.edits(job)) == 1
    assert stage_of(rig.message(job)) == QUEUED  # what the token could still show, left as it was
    assert check_requests(rig.discord.requests) == 3  # every body against Discord's OpenAPI description


def test_a_404_from_the_interaction_webhook_switches_to_the_channel_at_once_and_is_not_retried(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.discord.expire_interaction(job.interaction_token)  # Discord forgot the token early
    rig.github.advance_job(run_id)

    rig.event(rig.github.run(run_id))

    first, refused = rig.edits(job)
    assert refused.path == first.path
    assert len(rig.discord.requests_to("PATCH", "/api/v10/webhooks/")) == 2  # one 404, never repeated
    [post] = channel_requests(rig)
    assert post.method == "POST"
    assert stage_of(rig.discord.channel_messages(CHANNEL_ID)[0]) == IN_PROGRESS

    rig.github.set_run_status(run_id, "completed", "success")
    rig.event(rig.github.run(run_id))

    assert len(rig.edits(job)) == 2  # the token is not tried again
    assert [r.method for r in channel_requests(rig)] == ["POST", "PATCH"]
    assert stage_of(rig.discord.channel_messages(CHANNEL_ID)[0]) == RESULT
    check_requests(rig.discord.requests)


def test_without_a_bot_token_a_warning_and_no_crash(rig_factory: RigFactory, logs: io.StringIO) -> None:
    rig = rig_factory(bot_token=None)
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.clock.advance(FOURTEEN_AND_A_HALF_MINUTES)

    rig.event(rig.github.run(run_id))  # no exception

    assert channel_requests(rig) == []
    warnings = [line for line in log_lines(logs) if line["level"] == "warn"]
    assert any("no DISCORD_BOT_TOKEN" in line["msg"] for line in warnings)
    assert rig.record(job).run_status == "in_progress"  # the record still follows the run


def test_an_ephemeral_message_is_never_posted_in_the_channel(rig: Rig, logs: io.StringIO) -> None:
    expired = rig.job("quiet", ephemeral=True)
    late = rig.job("quiet", ephemeral=True)
    for job in (expired, late):
        rig.dispatch(job)

    rig.discord.expire_interaction(expired.interaction_token)  # a 404 while the record is young
    finish(rig, expired)
    rig.clock.advance(FOURTEEN_AND_A_HALF_MINUTES)  # and a record past 14 minutes
    finish(rig, late)

    assert channel_requests(rig) == []
    assert rig.discord.channel_messages(CHANNEL_ID) == []
    assert len(rig.edits(expired)) == 2  # the first edit, then the 404
    assert len(rig.edits(late)) == 1  # past 14 minutes the token is not even tried
    warnings = [line["msg"] for line in log_lines(logs) if line["level"] == "warn"]
    assert warnings.count("ephemeral message can no longer be updated (token expired)") == 2


def finish(rig: Rig, job: Job) -> None:
    run_id = rig.record(job).run_id
    assert run_id is not None
    rig.github.set_run_status(run_id, "completed", "success")
    rig.event(rig.github.run(run_id))


def test_a_429_on_an_edit_is_waited_out_and_the_edit_retried(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.discord.rate_limit_next(1, 0.05)

    rig.event(rig.github.run(run_id))

    _, limited, retried = rig.edits(job)
    assert retried.time - limited.time >= 0.05  # the body's precise retry_after, not the header's 1 s
    assert retried.time - limited.time < 0.9
    assert stage_of(rig.message(job)) == IN_PROGRESS


def test_a_429_on_a_channel_edit_is_waited_out_too(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.clock.advance(FOURTEEN_AND_A_HALF_MINUTES)
    rig.event(rig.github.run(run_id))
    rig.github.set_run_status(run_id, "completed", "success")
    rig.discord.rate_limit_next(1, 0.05)

    rig.event(rig.github.run(run_id))

    assert [r.method for r in channel_requests(rig)] == ["POST", "PATCH", "PATCH"]
    assert stage_of(rig.discord.channel_messages(CHANNEL_ID)[0]) == RESULT


def test_a_channel_that_refuses_the_bot_during_a_poll_does_not_end_the_chain(rig: Rig, logs: io.StringIO) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.clock.advance(FOURTEEN_AND_A_HALF_MINUTES)
    rig.discord.inject(
        Fault(method="POST", path=r"/channels/", status=403, body={"message": "Missing Access", "code": 50001})
    )

    rig.run_due(rig.clock() + 10)  # no exception

    assert any("could not continue in the channel" in line["msg"] for line in log_lines(logs))
    assert rig.queue.polls()[-1][0].attempt == 1
    rig.github.set_run_status(run_id, "completed", "success")
    rig.run_due(rig.clock() + 20)  # access granted again
    assert stage_of(rig.shown(job)) == RESULT
