"""Jobs: downloads the server runs and keeps, queued durably, run by workers that scale out.

Between the engine and the faces: ``models / errors / settings`` ← ``engine`` ← ``sites`` ←
``jobs`` ← ``service``, ``cli``. See the modules: ``model`` (records), ``store`` /
``redis_store`` (state and leases), ``queue`` (huey), ``control`` (what the API does),
``runner`` / ``child`` (one run), ``worker`` (threads and housekeeping), ``files`` (folders).
"""

from mediadl.jobs.control import Jobs
from mediadl.jobs.model import FINAL_STATES, Item, Job, JobState, new_job_id
from mediadl.jobs.queue import JobQueue, open_store
from mediadl.jobs.worker import Worker

__all__ = [
    "FINAL_STATES",
    "Item",
    "Job",
    "JobQueue",
    "JobState",
    "Jobs",
    "Worker",
    "new_job_id",
    "open_store",
]
