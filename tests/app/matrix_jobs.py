"""URL values of the jobs area for the route x role matrix.

The matrix's job is one the system started (publishing a round's results), which every
reader of the partnership may watch; jobs people start are their own, checked in
tests/app/test_jobs.py.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.jobs import tasks
from app.jobs.queue import content_key
from app.models import Job, JobState
from tests.app.staff_helpers import World

CROSS_TENANT_BLUEPRINTS = {"jobs"}
OBJECT_PARTS = {"job_id"}


def url_values(session: Session, world: World, own: bool) -> dict:
    partnership_id = world.partnership if own else world.other_partnership
    round_id = world.open_round if own else world.other_round
    parameters = {"round_id": round_id, "results_version": 0}
    job = Job(kind=tasks.SNAPSHOT, parameters=parameters,
              content_key=content_key(tasks.SNAPSHOT, parameters), user_id=None,
              partnership_id=partnership_id, state=JobState.DONE, progress=100,
              attempts=1, outcome={"round_id": round_id})
    session.add(job)
    session.flush()
    return {"job_id": job.public_id}
